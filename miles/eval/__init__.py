"""Evaluation: splits, metrics with intervals, ablations, SHAP, the report."""
