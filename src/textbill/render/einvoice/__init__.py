"""render.einvoice: e-invoice writers (CII for Factur-X, UBL)."""
