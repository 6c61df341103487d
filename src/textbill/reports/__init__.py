"""reports: figures derived from the books (overdue, dashboard, explain, journals, e-invoice data).

Numbers only: formatting them is render/'s job.
"""
