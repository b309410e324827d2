"""The petition office's figures, its dashboard's reads, and the record of residents turned away."""
