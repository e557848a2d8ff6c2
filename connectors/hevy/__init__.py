"""Hevy (a lifting log app): a thin client of its public API and the rows of its workouts."""
