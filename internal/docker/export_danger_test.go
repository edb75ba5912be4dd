package docker

import "github.com/docker/docker/api/types/container"

// DangerousSpec is what the danger check finds in a spec without asking
// the engine: dangerousSpec plus the spec's own binds (danger_test.go).
func DangerousSpec(cfg *container.Config, hc *container.HostConfig) []string {
	why := dangerousSpec(cfg, hc)
	binds, _ := specMounts(hc)
	for _, m := range binds {
		if d := m.Danger(); d != "" {
			why = append(why, d)
		}
	}
	return why
}
