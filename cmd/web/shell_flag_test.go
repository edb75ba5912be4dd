package main

import (
	"io"
	"strings"
	"testing"
)

// TestShellFlag: the shell is off unless --shell or DOCKMAP_SHELL=1 says
// otherwise; the flag wins over the environment, and a garbled value stops
// the start.
func TestShellFlag(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want bool
	}{
		{"default", []string{"dockmap"}, nil, false},
		{"flag", []string{"dockmap", "--shell"}, nil, true},
		{"flag=false", []string{"dockmap", "--shell=false"}, map[string]string{"DOCKMAP_SHELL": "1"}, false},
		{"env 1", []string{"dockmap"}, map[string]string{"DOCKMAP_SHELL": "1"}, true},
		{"env 0", []string{"dockmap"}, map[string]string{"DOCKMAP_SHELL": "0"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseFlags(tt.args, envOf(tt.env), io.Discard)
			if err != nil {
				t.Fatalf("parseFlags(%q) = %v", tt.args, err)
			}
			if cfg.shell != tt.want {
				t.Errorf("shell = %v, want %v", cfg.shell, tt.want)
			}
		})
	}
	if _, err := parseFlags([]string{"dockmap"}, envOf(map[string]string{"DOCKMAP_SHELL": "sure"}), io.Discard); err == nil || !strings.Contains(err.Error(), "DOCKMAP_SHELL") {
		t.Errorf("DOCKMAP_SHELL=sure: err = %v, want a refusal naming it", err)
	}
}
