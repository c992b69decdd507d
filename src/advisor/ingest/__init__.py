"""Ingest: read corpus files of any supported format (`load`) and cut them into cited chunks (`chunk`)."""
