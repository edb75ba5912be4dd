package docker

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dockmap/dockmap/internal/topology"
)

// ProbeRepo is the repository of the probe image; its tag is the first 12
// hex digits of the SHA-256 of the binary inside, so a new dockmap build
// gets a new image and an unchanged one is never imported twice (unless,
// for a dynamically linked build, the host's libraries changed: the layer
// then differs, and the image is made again under the same tag).
const ProbeRepo = "dockmap-probe"

// probeImageTime is the modification time of every file in the probe
// image, so that one binary always gives the same layer.
var probeImageTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// probeImport serialises the check-and-import of probe images across every
// Client of the process: the race it prevents is on the engine's tag, not
// in a Client.
var probeImport sync.Mutex

// ProbeImageLabel marks dockmap's probe images. It is a hint for people
// (`docker images --filter label=...`); dockmap itself recognises its image
// by content, never by this label.
const ProbeImageLabel = "dockmap.probe-image"

// helperImageTimeout bounds the making of the helper image, an import of
// a few tens of megabytes, when HelperImage's caller gave no deadline.
const helperImageTimeout = 2 * time.Minute

// imageIdentity is what one binary's probe image must be: its reference
// and the digest of its one layer. The engine names a layer by the SHA-256
// of its uncompressed tar (its "diff ID"), and the tar is built from the
// binary (and, for a dynamically linked one, its loader and libraries)
// with fixed metadata, so an image whose only layer has this digest holds
// exactly these files and nothing else: only dockmap makes such an image,
// whatever labels or tags anyone sets.
type imageIdentity struct {
	ref    string // ProbeRepo + ":" + 12 hex digits of the binary's SHA-256
	diffID string // "sha256:<hex>" of the layer tar
	path   string // the binary
	// libs are the loader and shared libraries a dynamically linked
	// binary runs with (runtimeFiles); the layer holds them too, so the
	// diff ID vouches for them as for the binary: no other C library can
	// be slipped under dockmap's name.
	libs []layerFile
}

// helperImage is what a Client knows of its helper image: the probe image
// of the helper binary (WithHelperBinary). Every helper container dockmap
// starts (probe helpers, sidecars, leases) runs it, and a container made
// from it is recognised as a helper (helper_hidden.go).
type helperImage struct {
	bin string // the helper binary; "" is os.Executable()

	// sem is held while the image is being made: concurrent HelperImage
	// calls wait for the first (or for their ctx).
	sem chan struct{}
	// identMu is held while the binary's identity is computed, so that
	// the event watch and the first list hash it once between them.
	identMu sync.Mutex

	mu       sync.Mutex     // protects the fields below
	ident    *imageIdentity // the binary's identity, once computed
	identErr error          // why the binary can never give an image (permanent)
	ref      string         // the reference once the engine has the image (HelperImage's answer)
	looked   bool           // the first lookup, without import, is done
	// verdict says for each image ID inspected whether it is this
	// binary's image (its one layer is the binary's layer).
	verdict map[string]bool
	// refOurs is set while the reference is known to name the helper
	// image: an event that names the image by this reference is then a
	// helper's. Anyone can tag another image with it, so it is only set
	// once an inspect has shown the content.
	refOurs bool
}

func newHelperImage(bin string) *helperImage {
	return &helperImage{bin: bin, sem: make(chan struct{}, 1), verdict: make(map[string]bool)}
}

// WithHelperBinary names the dockmap binary the helper image is built
// from (default: the running executable). Tests give a build of cmd/web,
// since a test binary is not dockmap.
func WithHelperBinary(path string) Option {
	return func(o *options) { o.helperBin = path }
}

// HelperImage returns the reference of the helper image, the probe image
// of the helper binary (see EnsureProbeImage), and makes it on first use.
// Every helper container dockmap starts runs this image, and a container
// made from it is not shown on the map.
//
// A binary that can never make the image (not a Linux executable, a
// dynamically linked one whose libraries cannot all be found, or no
// executable path at all) is remembered: every later call returns the
// same error, wrapping topology.ErrInvalid for a binary that cannot run
// in the image. Other failures (engine down, a read error) are retried by
// the next call. If the engine loses the image later (someone removed it),
// the next helper start fails with ErrNotFound and the call after that
// makes it again.
func (c *Client) HelperImage(ctx context.Context) (ref string, err error) {
	h := c.helper
	h.mu.Lock()
	ref, ierr := h.ref, h.identErr
	h.mu.Unlock()
	if ref != "" || ierr != nil {
		return ref, ierr
	}
	if err := c.ready(ctx); err != nil {
		return "", err
	}
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-h.sem }()
	h.mu.Lock()
	ref = h.ref
	h.mu.Unlock()
	if ref != "" {
		return ref, nil // made while this call waited
	}
	ident, err := c.helperIdentity()
	if err != nil {
		return "", err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, helperImageTimeout)
		defer cancel()
	}
	id, err := c.ensureImage(ctx, ident)
	if err != nil {
		return "", err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ref, h.verdict[id], h.refOurs, h.looked = ident.ref, true, true, true
	return ident.ref, nil
}

// forgetHelperImage drops the remembered helper image after the engine
// said it has no image ref: the next HelperImage makes it again.
func (c *Client) forgetHelperImage(ref string) {
	h := c.helper
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ref == ref {
		h.ref = ""
	}
}

// helperIdentity computes the helper binary's identity once and remembers
// it, or remembers why there can be none.
func (c *Client) helperIdentity() (imageIdentity, error) {
	h := c.helper
	h.identMu.Lock()
	defer h.identMu.Unlock()
	h.mu.Lock()
	ident, ierr := h.ident, h.identErr
	h.mu.Unlock()
	if ident != nil || ierr != nil {
		if ierr != nil {
			return imageIdentity{}, ierr
		}
		return *ident, nil
	}
	bin := h.bin
	if bin == "" {
		var err error
		if bin, err = os.Executable(); err != nil {
			err = fmt.Errorf("find the dockmap binary for the helper image: %w", err)
			h.mu.Lock()
			h.identErr = err
			h.mu.Unlock()
			return imageIdentity{}, err
		}
	}
	// Computed outside h.mu, which recognition takes for every listed
	// container: it reads and hashes the binary (tens of megabytes).
	id, err := identify(bin)
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err == nil:
		h.ident = &id
	case errors.Is(err, topology.ErrInvalid):
		h.identErr = err
	}
	return id, err
}

// EnsureProbeImage makes sure the engine has the probe image for the
// dockmap binary at binaryPath and returns its reference,
// "dockmap-probe:<12 hex digits of the binary's SHA-256>". The image is
// FROM scratch: the binary at /dockmap, a minimal /etc/passwd and
// /etc/group, ENTRYPOINT ["/dockmap","probe"] and the label ProbeImageLabel=1
// (not HelperLabel: containers inherit image labels).
// It is imported from a tar built from the binary (no registry is needed)
// only when the engine has no image with that reference and exactly that
// content; an image of another content under the reference (a tag someone
// moved) is replaced.
//
// A dynamically linked binary (a build with cgo) gets its ELF interpreter
// and every shared library it needs as well, each at the path its loader
// looks for it (see runtimeFiles). Anything that cannot run in the image
// (not an ELF executable, a library that cannot be found) gives an error
// wrapping topology.ErrInvalid whose message says what is missing.
// Concurrent calls in one process import a new binary once. dockmap
// itself uses HelperImage, which calls this for the helper binary.
func (c *Client) EnsureProbeImage(ctx context.Context, binaryPath string) (ref string, err error) {
	if err := c.ready(ctx); err != nil {
		return "", err
	}
	ident, err := identify(binaryPath)
	if err != nil {
		return "", err
	}
	if _, err := c.ensureImage(ctx, ident); err != nil {
		return "", err
	}
	return ident.ref, nil
}

// ensureImage imports the image of ident unless the engine has it, and
// returns its ID.
func (c *Client) ensureImage(ctx context.Context, ident imageIdentity) (id string, err error) {
	// An import makes a new image (the engine stamps its creation time),
	// so a second import of the same binary would move the tag and leave
	// the first image dangling: one check-and-import at a time.
	probeImport.Lock()
	defer probeImport.Unlock()
	id, ours, err := c.inspectImageLayer(ctx, ident.ref, ident.diffID)
	if err != nil && !errors.Is(err, topology.ErrNotFound) {
		return "", err
	}
	if ours {
		return id, nil
	}
	if err := c.importProbeImage(ctx, ident); err != nil {
		return "", err
	}
	id, ours, err = c.inspectImageLayer(ctx, ident.ref, ident.diffID)
	if err != nil {
		return "", err
	}
	if !ours {
		// The import read the file again: it changed in between.
		return "", fmt.Errorf("probe image from %s: the binary changed while it was imported", ident.path)
	}
	return id, nil
}

// importProbeImage streams the image's root filesystem from the binary to
// the engine's import.
func (c *Client) importProbeImage(ctx context.Context, ident imageIdentity) error {
	f, err := os.Open(ident.path)
	if err != nil {
		return fmt.Errorf("probe image: read dockmap binary: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("probe image: read dockmap binary: %w", err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeRootfs(pw, f, st.Size(), ident.libs)) }()
	defer pr.Close() // ends the writer if the import stops reading early
	changes := []string{`ENTRYPOINT ["/dockmap","probe"]`, `LABEL ` + ProbeImageLabel + `=1`}
	return c.ImportImage(ctx, pr, ident.ref, changes)
}

// inspectImageLayer inspects an image (by reference or ID) and reports
// whether its one layer is diffID. It returns an error wrapping
// ErrNotFound if there is no such image.
func (c *Client) inspectImageLayer(ctx context.Context, ref, diffID string) (id string, ours bool, err error) {
	ii, err := c.api.ImageInspect(ctx, ref)
	if err != nil {
		return "", false, translate("inspect image "+ref, err)
	}
	return ii.ID, slices.Equal(ii.RootFS.Layers, []string{diffID}), nil
}

// identify checks that the binary at path can make a probe image and
// computes that image's identity, reading the file once.
func identify(path string) (imageIdentity, error) {
	f, err := os.Open(path)
	if err != nil {
		return imageIdentity{}, fmt.Errorf("probe image: read dockmap binary: %w", err)
	}
	defer f.Close()
	libs, err := runtimeFiles(path, f)
	if err != nil {
		return imageIdentity{}, fmt.Errorf("probe image from %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		return imageIdentity{}, fmt.Errorf("probe image: read dockmap binary: %w", err)
	}
	// One pass: the tar writer copies the binary into the layer's hash,
	// and a tee feeds the binary's own hash on the way.
	binSum, layerSum := sha256.New(), sha256.New()
	if err := writeRootfs(layerSum, io.TeeReader(f, binSum), st.Size(), libs); err != nil {
		return imageIdentity{}, fmt.Errorf("probe image from %s: %w", path, err)
	}
	return imageIdentity{
		ref:    ProbeRepo + ":" + hex.EncodeToString(binSum.Sum(nil))[:12],
		diffID: "sha256:" + hex.EncodeToString(layerSum.Sum(nil)),
		path:   path,
		libs:   libs,
	}, nil
}

// writeRootfs writes the probe image's root filesystem as a tar: the
// binary (size bytes read from bin) at /dockmap, and passwd and group
// files that let the engine resolve "root" and "nobody" should a user be
// named; then, for a dynamically linked binary, its loader and libraries
// (libs, sorted by name) with their directories. Nothing else is needed,
// since a helper borrows its /etc/hosts and /etc/resolv.conf from the
// container it probes from. The same files always give the same bytes
// (fixed order, times and modes), which is what the layer digest in
// imageIdentity relies on; a static binary's layer is what it was before
// libraries were carried, so its image is not made again.
func writeRootfs(w io.Writer, bin io.Reader, size int64, libs []layerFile) error {
	passwd := "root:x:0:0:root:/:/dockmap\nnobody:x:65534:65534:nobody:/:/dockmap\n"
	group := "root:x:0:\nnogroup:x:65534:\n"
	entries := []rootfsEntry{
		{name: "etc/", mode: 0o755},
		{name: "dockmap", mode: 0o755, size: size, data: bin},
		{name: "etc/passwd", mode: 0o644, size: int64(len(passwd)), data: strings.NewReader(passwd)},
		{name: "etc/group", mode: 0o644, size: int64(len(group)), data: strings.NewReader(group)},
	}
	tw := tar.NewWriter(w)
	for _, e := range entries {
		if err := e.write(tw); err != nil {
			return err
		}
	}
	if err := writeLibs(tw, libs); err != nil {
		return err
	}
	return tw.Close()
}

// rootfsEntry is one entry of the probe image's tar.
type rootfsEntry struct {
	name string
	mode int64
	size int64
	data io.Reader // nil for a directory or a hard link
	link string    // the entry a hard link points to
}

func (e rootfsEntry) write(tw *tar.Writer) error {
	h := &tar.Header{Name: e.name, Mode: e.mode, ModTime: probeImageTime, Format: tar.FormatPAX, Typeflag: tar.TypeDir}
	switch {
	case e.link != "":
		h.Typeflag, h.Linkname = tar.TypeLink, e.link
	case e.data != nil:
		h.Typeflag, h.Size = tar.TypeReg, e.size
	}
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	if e.data == nil {
		return nil
	}
	// A file shorter than its size now (changed on disk) makes the tar
	// writer fail rather than write a short file.
	_, err := io.Copy(tw, e.data)
	return err
}

// writeLibs writes libs, each under its image path, after the
// directories they need. Names that lead to one file on this host (the
// loader is both PT_INTERP and libc's DT_NEEDED, under two paths) become
// hard links to the first, so its bytes are in the layer once.
func writeLibs(tw *tar.Writer, libs []layerFile) error {
	dirs := map[string]bool{"etc/": true}
	first := map[string]string{} // host file, symlinks resolved → first entry name
	for _, l := range libs {
		name := strings.TrimPrefix(l.name, "/")
		var parents []string
		for d := path.Dir(name); d != "." && !dirs[d+"/"]; d = path.Dir(d) {
			parents = append(parents, d+"/")
			dirs[d+"/"] = true
		}
		slices.Reverse(parents)
		for _, d := range parents {
			if err := (rootfsEntry{name: d, mode: 0o755}).write(tw); err != nil {
				return err
			}
		}
		real, err := filepath.EvalSymlinks(l.src)
		if err != nil {
			return fmt.Errorf("read library %s: %w", l.src, err)
		}
		if to, ok := first[real]; ok {
			if err := (rootfsEntry{name: name, mode: 0o755, link: to}).write(tw); err != nil {
				return err
			}
			continue
		}
		first[real] = name
		if err := writeFile(tw, name, real); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes the file at src under name, executable (the kernel
// maps the loader only from an executable file).
func writeFile(tw *tar.Writer, name, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("read library: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("read library: %w", err)
	}
	if err := (rootfsEntry{name: name, mode: 0o755, size: st.Size(), data: f}).write(tw); err != nil {
		return fmt.Errorf("read library %s: %w", src, err)
	}
	return nil
}

// HelperImageRef is the reference the helper image has (or would have),
// read from the helper binary without asking the engine.
func (c *Client) HelperImageRef() (string, error) {
	ident, err := c.helperIdentity()
	if err != nil {
		return "", err
	}
	return ident.ref, nil
}
