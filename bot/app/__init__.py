"""Processes and wiring: the CLI and where each process starts, settings, the composition
root (runtime), logging, and the checks a process makes before it serves.
"""
