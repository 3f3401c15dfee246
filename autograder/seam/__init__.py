"""The grading seam: a sandbox runs student code, the judge reaches it by value."""
