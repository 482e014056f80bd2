"""campuslake: a lakehouse for student, career and alumni data."""
