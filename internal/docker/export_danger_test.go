package docker

// DangerousSpec exposes dangerousSpec to the external tests (danger_test.go).
var DangerousSpec = dangerousSpec
