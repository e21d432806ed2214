"""Word (.docx) exports: papers, keys, task sheets, element tables, reports. Domain objects in, bytes out."""
