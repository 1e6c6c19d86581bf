"""Kinds of evidence behind one Protocol."""
