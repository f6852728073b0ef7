"""Embedding: encoders behind one interface and the resumable batched job that fills embedding tables."""
