//go:build unix

package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// The Dockerfiles, from this package's directory (go test runs there).
const (
	dockerfilePath         = "../../Dockerfile"
	prebuiltDockerfilePath = "../../Dockerfile.prebuilt"
)

// imageSocketTarget is where the image expects the engine's socket
// directory (its ENV DOCKER_HOST is unix:///var/run/docker.sock).
const imageSocketTarget = "/var/run"

// stageKeys are the final-stage instructions that decide how the image
// runs; Dockerfile.prebuilt must repeat them exactly.
var stageKeys = []string{"COPY", "ENV", "USER", "EXPOSE", "ENTRYPOINT"}

// finalStage reads a Dockerfile and returns, for each of stageKeys, the
// arguments of every such instruction after the last FROM, with runs of
// spaces collapsed. For COPY only the destination is kept, since the
// sources differ by design (a build stage vs the build context).
func finalStage(t *testing.T, file string) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read Dockerfile: %v", err)
	}
	var instrs []string // logical lines: continuations joined, comments dropped
	var cur strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(cont + " ")
			continue
		}
		cur.WriteString(line)
		instrs = append(instrs, cur.String())
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", file, err)
	}
	if cur.Len() > 0 {
		t.Fatalf("%s ends inside a line continuation", file)
	}

	var stage map[string][]string
	for _, in := range instrs {
		fields := strings.Fields(in)
		key := strings.ToUpper(fields[0])
		if key == "FROM" {
			stage = make(map[string][]string)
			continue
		}
		if stage == nil || !slices.Contains(stageKeys, key) {
			continue
		}
		arg := strings.Join(fields[1:], " ")
		if key == "COPY" {
			arg = fields[len(fields)-1]
		}
		stage[key] = append(stage[key], arg)
	}
	if stage == nil {
		t.Fatalf("%s has no FROM", file)
	}
	return stage
}

// entrypoint is the exec-form ENTRYPOINT of a final stage.
func entrypoint(t *testing.T, stage map[string][]string) []string {
	t.Helper()
	if len(stage["ENTRYPOINT"]) != 1 {
		t.Fatalf("final stage has %d ENTRYPOINT lines, want 1", len(stage["ENTRYPOINT"]))
	}
	var argv []string
	if err := json.Unmarshal([]byte(stage["ENTRYPOINT"][0]), &argv); err != nil || len(argv) == 0 {
		t.Fatalf("ENTRYPOINT %s is not an exec-form (JSON) array: %v", stage["ENTRYPOINT"][0], err)
	}
	return argv
}

// TestImageDockerfilesAgree: the tests build Dockerfile.prebuilt, users
// build Dockerfile, so the two final stages must run the same way. It also
// checks that the entrypoint's flags are ones dockmap accepts and that it
// listens on the port the image exposes.
func TestImageDockerfilesAgree(t *testing.T) {
	users, prebuilt := finalStage(t, dockerfilePath), finalStage(t, prebuiltDockerfilePath)
	for _, key := range stageKeys {
		if len(users[key]) == 0 {
			t.Errorf("Dockerfile's final stage has no %s", key)
		}
		if diff := cmp.Diff(users[key], prebuilt[key]); diff != "" {
			t.Errorf("%s differs between Dockerfile and Dockerfile.prebuilt (-Dockerfile +prebuilt):\n%s", key, diff)
		}
	}
	if got, want := users["USER"], []string{"65532:65532"}; !slices.Equal(got, want) {
		t.Errorf("USER = %q, want %q (distroless nonroot, never root)", got, want)
	}

	argv := entrypoint(t, users)
	if users["COPY"] != nil && argv[0] != users["COPY"][0] {
		t.Errorf("ENTRYPOINT runs %s, but the binary is copied to %s", argv[0], users["COPY"][0])
	}
	cfg, err := parseFlags(argv, envOf(nil), io.Discard)
	if err != nil {
		t.Fatalf("dockmap refuses the ENTRYPOINT's arguments %q: %v", argv, err)
	}
	_, port, err := net.SplitHostPort(cfg.addr)
	if err != nil {
		t.Fatalf("ENTRYPOINT --addr %q: %v", cfg.addr, err)
	}
	if want := []string{port}; !slices.Equal(users["EXPOSE"], want) {
		t.Errorf("EXPOSE %q, but the ENTRYPOINT listens on %s", users["EXPOSE"], cfg.addr)
	}
}

// TestContainerImageServesHealthz builds the image from a locally built
// binary (Dockerfile.prebuilt: the real Dockerfile's base images cannot be
// pulled here), checks what it ships, and runs it the way the README says:
// the socket's directory mounted, the socket's group added, the port
// published on the host's loopback only. dockmap inside must serve, with
// the engine connected, to the host.
func TestContainerImageServesHealthz(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	sock, ok := strings.CutPrefix(c.Host(), "unix://")
	if !ok {
		t.Skipf("engine at %s: the image test mounts a local unix socket", c.Host())
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()

	ref := buildImage(t, ctx, c)

	// What the image is: a non-root entrypoint and one file, so no shell
	// or anything else an intruder could use.
	want := finalStage(t, prebuiltDockerfilePath)
	ic, err := c.InspectImage(ctx, ref)
	if err != nil {
		t.Fatalf("InspectImage: %v", err)
	}
	if ic.User != "65532:65532" {
		t.Errorf("image User = %q, want 65532:65532", ic.User)
	}
	if diff := cmp.Diff(entrypoint(t, want), ic.Entrypoint); diff != "" {
		t.Errorf("image Entrypoint mismatch (-Dockerfile +image):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"8080/tcp"}, ic.ExposedPorts); diff != "" {
		t.Errorf("image ExposedPorts mismatch (-want +got):\n%s", diff)
	}
	if !slices.Contains(ic.Env, "DOCKER_HOST=unix:///var/run/docker.sock") {
		t.Errorf("image Env = %q, want DOCKER_HOST=unix:///var/run/docker.sock", ic.Env)
	}
	if ic.Labels[dockertest.Label] != "1" {
		t.Errorf("image Labels = %v, want %s=1", ic.Labels, dockertest.Label)
	}
	files, err := c.ImageFiles(ctx, ref)
	if err != nil {
		t.Fatalf("ImageFiles: %v", err)
	}
	if diff := cmp.Diff([]string{"/dockmap"}, files); diff != "" {
		t.Errorf("image files mismatch (-want +got):\n%s", diff)
	}

	// Mount the socket's directory, not the socket: a daemon restart
	// makes a new socket file, which a file mount would not see. The
	// process is not root, so it needs the socket's group.
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatalf("stat engine socket: %v", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		t.Fatalf("stat %s: no owner information", sock)
	}
	spec := docker.ContainerSpec{
		Name:   dockertest.UniqueName(t, "dockmap"),
		Image:  ref,
		Labels: dockertest.Labels(),
		Mounts: []docker.MountSpec{{
			Type: "bind", Source: filepath.Dir(sock), Target: imageSocketTarget, ReadOnly: true,
		}},
		GroupAdd: []string{strconv.FormatUint(uint64(st.Gid), 10)},
		Ports:    []docker.PortSpec{{ContainerPort: 8080, HostIP: "127.0.0.1"}},
	}
	// In its own network namespace the image listens on every interface,
	// so access control is on: the operator's token comes from the
	// environment, as the README shows.
	spec.Env = []string{"DOCKMAP_OPERATOR_TOKEN=" + opToken}
	if base := filepath.Base(sock); base != "docker.sock" {
		spec.Env = append(spec.Env, "DOCKER_HOST=unix://"+path.Join(imageSocketTarget, base))
	}
	id, err := c.CreateContainer(ctx, spec)
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	dockertest.TrackContainer(t, c, id)
	logOnFailure(t, id)
	if err := c.StartContainer(ctx, id); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}

	base := "http://" + publishedAddr(t, ctx, c, id, 8080)
	hc := &http.Client{Timeout: 5 * time.Second}
	var h struct {
		Engine topology.EngineState `json:"engine"`
	}
	get := func(path string) (*http.Response, error) {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+opToken)
		return hc.Do(req)
	}
	dockertest.WaitFor(t, 60*time.Second, func() (bool, string) {
		resp, err := get("/healthz")
		if err != nil {
			return false, fmt.Sprintf("GET /healthz: %v (container %s)", err, containerStatus(c, id))
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return false, fmt.Sprintf("GET /healthz = %d %s", resp.StatusCode, body)
		}
		if err := json.Unmarshal(body, &h); err != nil {
			return false, fmt.Sprintf("GET /healthz body %s: %v", body, err)
		}
		return h.Engine.Connected, fmt.Sprintf("GET /healthz = %s", body)
	})
	if !strings.HasPrefix(h.Engine.Host, "unix://"+imageSocketTarget+"/") {
		t.Errorf("dockmap in the container uses engine %q, want the mounted socket under %s", h.Engine.Host, imageSocketTarget)
	}

	resp, err := get("/")
	if err != nil {
		t.Fatalf("GET /: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET / = %d, want 200", resp.StatusCode)
	}
	// Without the token, the published port gives nothing away.
	anon, err := hc.Get(base + "/api/graph")
	if err != nil {
		t.Fatalf("GET /api/graph: %v", err)
	}
	anon.Body.Close()
	if anon.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/graph without a token = %d, want 401", anon.StatusCode)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("GET / Content-Security-Policy = %q, want default-src 'self'", csp)
	}
}

// TestImageBuildReportsFailedStep: the engine reports a failed build step
// inside a 200 response, and BuildImage must still return it, with the
// engine's message, and leave no image behind.
func TestImageBuildReportsFailedStep(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	ref := "dockmap-imagetest:" + dockertest.UniqueName(t, "bad")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.RemoveImage(ctx, ref); err != nil && !errors.Is(err, topology.ErrNotFound) {
			t.Errorf("cleanup: %v", err)
		}
	})
	buildCtx := contextTar(t, map[string][]byte{"Dockerfile": []byte("FROM scratch\nCOPY no-such-file /x\n")})
	err := c.BuildImage(ctx, buildCtx, "Dockerfile", ref, dockertest.Labels())
	if err == nil || !strings.Contains(err.Error(), "no-such-file") {
		t.Fatalf("BuildImage with a missing COPY source = %v, want an error naming no-such-file", err)
	}
	if _, err := c.InspectImage(ctx, ref); !errors.Is(err, topology.ErrNotFound) {
		t.Errorf("InspectImage after a failed build = %v, want ErrNotFound", err)
	}
}

// contextTar is a build context holding files (name → content); a file
// named dockmap is executable.
func contextTar(t *testing.T, files map[string][]byte) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := slices.Sorted(maps.Keys(files))
	for _, name := range names {
		mode := int64(0o644)
		if name == "dockmap" {
			mode = 0o755
		}
		hdr := &tar.Header{Name: name, Mode: mode, Size: int64(len(files[name])), ModTime: time.Now(), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("build context: %v", err)
		}
		if _, err := tw.Write(files[name]); err != nil {
			t.Fatalf("build context: %v", err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatalf("build context: %v", err)
	}
	return &buf
}

// buildImage builds dockmap as the Dockerfile does (static, trimmed), then
// the image from it with Dockerfile.prebuilt, tagged uniquely and labelled
// for cleanup; the image is removed when the test ends, after its
// containers (cleanups run last in, first out).
func buildImage(t *testing.T, ctx context.Context, c *docker.Client) (ref string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dockmap")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=imagetest", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dockerfile, err := os.ReadFile(prebuiltDockerfilePath)
	if err != nil {
		t.Fatalf("read Dockerfile.prebuilt: %v", err)
	}
	binary, err := os.ReadFile(bin)
	if err != nil {
		t.Fatalf("read binary: %v", err)
	}

	buildCtx := contextTar(t, map[string][]byte{"Dockerfile.prebuilt": dockerfile, "dockmap": binary})

	// Repositories must be lower case; UniqueName's test part may not be.
	ref = "dockmap-imagetest:" + dockertest.UniqueName(t, "img")
	if err := c.BuildImage(ctx, buildCtx, "Dockerfile.prebuilt", ref, dockertest.Labels()); err != nil {
		t.Fatalf("BuildImage: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.RemoveImage(ctx, ref); err != nil && !errors.Is(err, topology.ErrNotFound) {
			t.Errorf("cleanup: %v", err)
		}
	})
	return ref
}

// publishedAddr waits for the engine to publish the container's port and
// returns the host address, which must be on loopback only.
func publishedAddr(t *testing.T, ctx context.Context, c *docker.Client, id string, port uint16) string {
	t.Helper()
	var addr string
	dockertest.WaitFor(t, 30*time.Second, func() (bool, string) {
		inv, err := c.ListInventory(ctx)
		if err != nil {
			return false, err.Error()
		}
		for _, ct := range inv.Containers {
			if ct.ID != id {
				continue
			}
			for _, p := range ct.Ports {
				if p.PrivatePort == port && p.PublicPort != 0 {
					if p.IP != "127.0.0.1" {
						t.Fatalf("port %d published on %s, want 127.0.0.1 only", port, p.IP)
					}
					addr = fmt.Sprintf("127.0.0.1:%d", p.PublicPort)
					return true, ""
				}
			}
			return false, fmt.Sprintf("container %s %s, ports %v", ct.State, ct.Status, ct.Ports)
		}
		return false, "container not listed"
	})
	return addr
}

// containerStatus is the container's state as `docker ps -a` shows it,
// for failure messages.
func containerStatus(c *docker.Client, id string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	inv, err := c.ListInventory(ctx)
	if err != nil {
		return err.Error()
	}
	for _, ct := range inv.Containers {
		if ct.ID == id {
			return ct.State + ", " + ct.Status
		}
	}
	return "gone"
}

// logOnFailure prints the container's output if the test fails, before
// the container is removed. The adapter has no logs call (dockmap does not
// need one), so this uses the docker CLI when there is one.
func logOnFailure(t *testing.T, id string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		if _, err := exec.LookPath("docker"); err != nil {
			return
		}
		out, _ := exec.Command("docker", "logs", id).CombinedOutput()
		t.Logf("container %s output:\n%s", id[:12], out)
	})
}
