"""Exports of the register: the same layers and columns the importers read back."""
