"""What tests share besides fixtures: fakes of each stage protocol (`fakes`)."""
