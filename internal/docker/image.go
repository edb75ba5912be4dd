package docker

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
)

// buildTailLines is how many lines of build output a failed build's error
// carries: enough to show the failing step and what it printed.
const buildTailLines = 10

// BuildImage builds an image from a tar build context, tags it tag and sets
// labels on it. dockerfile is the Dockerfile's path inside the context.
//
// It uses the engine's classic builder: every engine has it, and the API
// serves it without a BuildKit session, so Dockerfiles built this way must
// not use BuildKit-only syntax (RUN --mount). Nothing is pulled unless the
// Dockerfile names a base image the engine lacks. Intermediate containers
// are removed even when a step fails.
//
// The engine reports a failed step inside the response stream, not as an
// HTTP status, so the stream is read to its end and its first error is
// returned together with the last lines of build output.
func (c *Client) BuildImage(ctx context.Context, contextTar io.Reader, dockerfile, tag string, labels map[string]string) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	resp, err := c.api.ImageBuild(ctx, contextTar, build.ImageBuildOptions{
		Tags:        []string{tag},
		Dockerfile:  dockerfile,
		Labels:      labels,
		Remove:      true,
		ForceRemove: true,
		Version:     build.BuilderV1,
	})
	if err != nil {
		return translate("build image "+tag, err)
	}
	defer resp.Body.Close()

	var (
		first string   // the first error the stream reported
		tail  []string // the last buildTailLines lines of output
	)
	dec := json.NewDecoder(resp.Body)
	for {
		var m buildMessage
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return translate("build image "+tag+": read build output", err)
		}
		for _, line := range strings.Split(strings.TrimRight(m.Stream, "\n"), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				tail = append(tail, line)
			}
		}
		if len(tail) > buildTailLines {
			tail = tail[len(tail)-buildTailLines:]
		}
		if msg := m.err(); msg != "" && first == "" {
			first = msg
		}
	}
	if first != "" {
		return fmt.Errorf("build image %s: %s\n%s", tag, first, strings.Join(tail, "\n"))
	}
	return nil
}

// buildMessage is one JSON object of the build response stream (the SDK's
// jsonmessage.JSONMessage, cut to the fields a build uses).
type buildMessage struct {
	Stream      string `json:"stream"`
	Error       string `json:"error"`
	ErrorDetail *struct {
		Message string `json:"message"`
	} `json:"errorDetail"`
}

// err is the message's error text, "" if it reports none. Engines send it
// twice, in errorDetail and in the older error field.
func (m buildMessage) err() string {
	if m.ErrorDetail != nil && m.ErrorDetail.Message != "" {
		return m.ErrorDetail.Message
	}
	return m.Error
}

// RemoveImage removes an image reference (name:tag or ID) and the untagged
// parents left behind by the classic builder. It does not force: it
// returns ErrConflict while a container, even a stopped one, uses the
// image, and ErrNotFound if there is no such image.
func (c *Client) RemoveImage(ctx context.Context, ref string) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	_, err := c.api.ImageRemove(ctx, ref, image.RemoveOptions{PruneChildren: true})
	return translate("remove image "+ref, err)
}

// ImageConfig is the part of an image's configuration that says how its
// containers run, as `docker image inspect` shows it under Config.
type ImageConfig struct {
	ID         string
	User       string
	Entrypoint []string
	Cmd        []string
	Env        []string
	// ExposedPorts are "port/protocol" strings, sorted.
	ExposedPorts []string
	Labels       map[string]string
}

// InspectImage returns the run configuration of a local image. It returns
// ErrNotFound if the engine has no such image.
func (c *Client) InspectImage(ctx context.Context, ref string) (ImageConfig, error) {
	if err := c.ready(ctx); err != nil {
		return ImageConfig{}, err
	}
	resp, err := c.api.ImageInspect(ctx, ref)
	if err != nil {
		return ImageConfig{}, translate("inspect image "+ref, err)
	}
	ic := ImageConfig{ID: resp.ID}
	if cfg := resp.Config; cfg != nil {
		ic.User, ic.Entrypoint, ic.Cmd, ic.Env, ic.Labels = cfg.User, cfg.Entrypoint, cfg.Cmd, cfg.Env, cfg.Labels
		for p := range cfg.ExposedPorts {
			ic.ExposedPorts = append(ic.ExposedPorts, p)
		}
		slices.Sort(ic.ExposedPorts)
	}
	return ic, nil
}

// ImageFiles lists the paths ("/dockmap", "/etc/passwd") that the layers
// of a local image add, sorted and without duplicates; directories are
// included, and a path deleted by a later layer is still listed. Tests use
// it to check what an image ships (no shell, nothing but the binary).
//
// It reads `docker save` output, which the engine writes in one of two
// layouts (legacy "<id>/layer.tar" or OCI "blobs/sha256/<digest>"), and
// takes every entry there that reads as a tar, plain or gzipped, as a
// layer; the JSON blobs beside them do not.
func (c *Client) ImageFiles(ctx context.Context, ref string) ([]string, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	rc, err := c.api.ImageSave(ctx, []string{ref})
	if err != nil {
		return nil, translate("save image "+ref, err)
	}
	defer rc.Close()

	seen := make(map[string]bool)
	outer := tar.NewReader(rc)
	for {
		hdr, err := outer.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, translate("save image "+ref, err)
		}
		if hdr.Typeflag != tar.TypeReg || !(path.Base(hdr.Name) == "layer.tar" || strings.HasPrefix(hdr.Name, "blobs/")) {
			continue
		}
		names, ok := layerFiles(outer)
		if !ok {
			continue
		}
		for _, n := range names {
			seen[n] = true
		}
	}
	files := make([]string, 0, len(seen))
	for n := range seen {
		files = append(files, n)
	}
	slices.Sort(files)
	return files, nil
}

// layerFiles lists the paths in one layer tar, rooted at "/". ok is false
// when r does not read as a tar (a JSON config or manifest blob).
func layerFiles(r io.Reader) (names []string, ok bool) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, false
		}
		defer gz.Close()
		r = gz
	} else {
		r = br
	}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names, true
		}
		if err != nil {
			// A layer never fails half-way in a stream the engine wrote;
			// a blob that fails is not a layer.
			return nil, false
		}
		if n := path.Clean("/" + hdr.Name); n != "/" {
			names = append(names, n)
		}
	}
}
