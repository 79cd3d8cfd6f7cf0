"""Cases: intake to closure, caseloads, stage work, team, history."""
