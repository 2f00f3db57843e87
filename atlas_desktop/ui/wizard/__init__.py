"""The onboarding wizard: Atlas sign-in, ERP choice, instructions, credentials, test, preferences, discovery,
activation. One module per page; `wizard.py` puts them together."""
