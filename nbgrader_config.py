"""nbgrader's configuration for this course (the repository root is the course directory).

Instructor source notebooks live in solutions/, released student notebooks in
exercises/; submitted/, autograded/, feedback/ and gradebook.db are created by
the autograder commands and are not committed.
"""

c = get_config()  # noqa: F821 - provided by nbgrader's config loader

c.CourseDirectory.course_id = "llm-engineering-8-weeks"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
