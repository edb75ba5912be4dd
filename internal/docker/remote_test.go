package docker_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
)

// fakeSSH is an ssh that records its arguments and, instead of logging in
// anywhere, carries its standard input and output to the local engine's
// socket, as `docker system dial-stdio` on a remote host would.
const fakeSSH = `#!/bin/sh
echo "$@" >> "$FAKE_SSH_ARGS"
exec python3 -c '
import os, socket, sys, threading
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
def up():
    while True:
        b = os.read(0, 65536)
        if not b:
            s.shutdown(socket.SHUT_WR)
            return
        s.sendall(b)
threading.Thread(target=up, daemon=True).start()
while True:
    b = s.recv(65536)
    if not b:
        break
    os.write(1, b)
' "$FAKE_SSH_SOCKET"
`

// TestSSHEngine: an ssh:// engine is reached through ssh running docker
// system dial-stdio, with the user and port of the address.
func TestSSHEngine(t *testing.T) {
	dockertest.Client(t)
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3 for the fake ssh")
	}
	sock := "/var/run/docker.sock"
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		if !strings.HasPrefix(h, "unix://") {
			t.Skip("the fake ssh needs the engine on a unix socket")
		}
		sock = strings.TrimPrefix(h, "unix://")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ssh"), []byte(fakeSSH), 0o755); err != nil {
		t.Fatal(err)
	}
	args := filepath.Join(dir, "args")
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_SSH_ARGS", args)
	t.Setenv("FAKE_SSH_SOCKET", sock)

	c, err := docker.New(docker.WithSSH("ssh://me@box.example:2222"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, _, err := c.Version(ctx)
	if err != nil || v == "" {
		t.Fatalf("version over ssh = %q, %v", v, err)
	}
	got, _ := os.ReadFile(args)
	want := "-o ConnectTimeout=10 -o BatchMode=yes -l me -p 2222 -- box.example docker system dial-stdio"
	if line, _, _ := strings.Cut(string(got), "\n"); line != want {
		t.Errorf("ssh ran with %q, want %q", line, want)
	}
}

// TestSSHEngineDown: an ssh that fails makes the engine unreachable, with
// an error, rather than hanging.
func TestSSHEngineDown(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ssh"), []byte("#!/bin/sh\necho 'Permission denied (publickey).' >&2\nexit 255\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	c, err := docker.New(docker.WithSSH("ssh://box.example"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, err := c.Version(ctx); err == nil || !strings.Contains(err.Error(), "engine unreachable") || !strings.Contains(err.Error(), "Permission denied (publickey).") {
		t.Errorf("version over a failing ssh: err = %v, want engine unreachable with what ssh said", err)
	}
}
