"""Programmes, calls for proposals, sectors and the versions of the HRDD clause."""
