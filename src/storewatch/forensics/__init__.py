"""Forensics: reconstruct an incident from the store and package it as evidence.

`pivot` follows an incident's entities through the events hop by hop (in DuckDB), `describe` says in one line
what an event was, `findings` derives the entry point, the blast radius and the gaps, `timeline` puts them
together, `evidence` writes a hashed bundle that detects tampering and `stix` shares the indicators.
"""
