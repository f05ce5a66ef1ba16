print("mia-audit")
