"""Thin lifecycle modules: registration, exam sessions, scoring, certificates, staff cards."""
