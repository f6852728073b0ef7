"""Embedding: encoders behind one interface and the resumable batched job that fills embedding tables."""

# Thumbnail decoders a job may ask for (``EmbedConfig.decoder``, ``miles embed --decoder``); see miles.embed.reader.
DECODERS = ("auto", "pil", "nvjpeg", "torchvision")
