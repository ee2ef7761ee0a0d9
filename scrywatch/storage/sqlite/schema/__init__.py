"""DDL of each feature, one module per migration step (see ../migrations.py)."""
