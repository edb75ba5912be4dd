package main

import (
	"io"
	"strings"
	"testing"
)

// TestViewerLogsFlag: viewers read no logs unless --viewer-logs or
// DOCKMAP_VIEWER_LOGS=1 says so; a garbled env value stops the start.
func TestViewerLogsFlag(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want bool
	}{
		{"default", []string{"dockmap"}, nil, false},
		{"flag", []string{"dockmap", "--viewer-logs"}, nil, true},
		{"flag=false", []string{"dockmap", "--viewer-logs=false"}, map[string]string{"DOCKMAP_VIEWER_LOGS": "1"}, false},
		{"env 1", []string{"dockmap"}, map[string]string{"DOCKMAP_VIEWER_LOGS": "1"}, true},
		{"env 0", []string{"dockmap"}, map[string]string{"DOCKMAP_VIEWER_LOGS": "0"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseFlags(tt.args, envOf(tt.env), io.Discard)
			if err != nil {
				t.Fatalf("parseFlags(%q) = %v", tt.args, err)
			}
			if cfg.viewerLogs != tt.want {
				t.Errorf("viewerLogs = %v, want %v", cfg.viewerLogs, tt.want)
			}
		})
	}
	_, err := parseFlags([]string{"dockmap"}, envOf(map[string]string{"DOCKMAP_VIEWER_LOGS": "sure"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "DOCKMAP_VIEWER_LOGS") {
		t.Errorf("DOCKMAP_VIEWER_LOGS=sure: err = %v, want a refusal naming it", err)
	}
}
