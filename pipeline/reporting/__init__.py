"""Printed outputs of the ledger: PDF rendering (pdf.py), periodic reports, charts."""
