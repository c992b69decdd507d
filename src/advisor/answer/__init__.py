"""Answer: condense a follow-up (`condense`), judge answerability (`judge`), compose a cited answer (`compose`)."""
