package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/dockmap/dockmap/internal/topology"
)

// ProbeRepo is the repository of the probe image; its tag is the first 12
// hex digits of the SHA-256 of the binary inside, so a new dockmap build
// gets a new image and an unchanged one is never imported twice.
const ProbeRepo = "dockmap-probe"

// probeImageTime is the modification time of every file in the probe
// image, so that one binary always gives the same layer.
var probeImageTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// probeImport serialises EnsureProbeImage across every Client of the
// process: the race it prevents is on the engine's tag, not in a Client.
var probeImport sync.Mutex

// ProbeImageLabel marks dockmap's probe images.
const ProbeImageLabel = "dockmap.probe-image"

// EnsureProbeImage makes sure the engine has the probe image for the
// dockmap binary at binaryPath and returns its reference,
// "dockmap-probe:<12 hex digits of the binary's SHA-256>". The image is
// FROM scratch: the binary at /dockmap, a minimal /etc/passwd and
// /etc/group, ENTRYPOINT ["/dockmap","probe"] and the label ProbeImageLabel=1
// (not HelperLabel: containers inherit image labels, and a container a user
// runs from this image is theirs, not a hidden helper).
// It is imported from a tar built in memory (no registry is needed) only
// when the engine does not have that reference yet.
//
// The binary must be a statically linked ELF executable, since the image
// has no C library: EnsureProbeImage returns an error wrapping
// topology.ErrInvalid, whose message says how to build it, for anything
// else. Concurrent calls in one process import a new binary once.
func (c *Client) EnsureProbeImage(ctx context.Context, binaryPath string) (ref string, err error) {
	if err := c.ready(ctx); err != nil {
		return "", err
	}
	bin, err := os.ReadFile(binaryPath)
	if err != nil {
		return "", fmt.Errorf("probe image: read dockmap binary: %w", err)
	}
	if err := checkStatic(bin); err != nil {
		return "", fmt.Errorf("probe image from %s: %w", binaryPath, err)
	}
	sum := sha256.Sum256(bin)
	ref = ProbeRepo + ":" + hex.EncodeToString(sum[:])[:12]
	// An import makes a new image (the engine stamps its creation time),
	// so a second import of the same binary would move the tag and leave
	// the first image dangling: one check-and-import at a time.
	probeImport.Lock()
	defer probeImport.Unlock()
	exists, err := c.ImageExists(ctx, ref)
	if err != nil {
		return "", err
	}
	if exists {
		return ref, nil
	}
	rootfs, err := probeRootfs(bin)
	if err != nil {
		return "", fmt.Errorf("probe image: %w", err)
	}
	changes := []string{`ENTRYPOINT ["/dockmap","probe"]`, `LABEL ` + ProbeImageLabel + `=1`}
	if err := c.ImportImage(ctx, bytes.NewReader(rootfs), ref, changes); err != nil {
		return "", err
	}
	return ref, nil
}

// checkStatic returns an error wrapping ErrInvalid unless bin is an ELF
// executable with no program interpreter, i.e. one that runs in an image
// with nothing else in it.
func checkStatic(bin []byte) error {
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return fmt.Errorf("%w: not an ELF executable (%v); the probe image needs a Linux build of dockmap", topology.ErrInvalid, err)
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("%w: ELF file of type %v is not an executable", topology.ErrInvalid, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%w: dockmap was built with cgo; build it with CGO_ENABLED=0 to probe containers without ping", topology.ErrInvalid)
		}
	}
	return nil
}

// probeRootfs is the probe image's root filesystem as a tar. The passwd
// and group files let the engine resolve "root" and "nobody" should a
// user be named; nothing else is needed, since the helper borrows its
// /etc/hosts and /etc/resolv.conf from the container it probes from.
func probeRootfs(bin []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	entries := []struct {
		name string
		mode int64
		data []byte
		dir  bool
	}{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "dockmap", mode: 0o755, data: bin},
		{name: "etc/passwd", mode: 0o644, data: []byte("root:x:0:0:root:/:/dockmap\nnobody:x:65534:65534:nobody:/:/dockmap\n")},
		{name: "etc/group", mode: 0o644, data: []byte("root:x:0:\nnogroup:x:65534:\n")},
	}
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, ModTime: probeImageTime, Format: tar.FormatPAX}
		if e.dir {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
