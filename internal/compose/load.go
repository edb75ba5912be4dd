package compose

import (
	"context"
	"fmt"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// Load reads a Compose file back with compose-go, as project name, with
// no environment of the caller's: the check that an export is a file
// Compose understands, and what tests compare.
func Load(ctx context.Context, data []byte, name, workingDir string) (*types.Project, error) {
	p, err := loader.LoadWithContext(ctx, types.ConfigDetails{
		WorkingDir:  workingDir,
		ConfigFiles: []types.ConfigFile{{Filename: "compose.yaml", Content: data}},
		Environment: types.Mapping{},
	}, func(o *loader.Options) { o.SetProjectName(name, true) })
	if err != nil {
		return nil, fmt.Errorf("load compose file: %w", err)
	}
	return p, nil
}
