"""Evaluation: golden Q&A through the advisor with metrics and reports (`golden`), and benchmarks (`bench`)."""
