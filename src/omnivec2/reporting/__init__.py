"""The evaluation report: data cards with sample pictures, figures, and report.md / report.html."""
