package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/live"
	"github.com/dockmap/dockmap/internal/probe"
	"github.com/dockmap/dockmap/internal/server"
	"github.com/dockmap/dockmap/internal/topology"
	"github.com/dockmap/dockmap/web"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// unsafeExposeFlag is named to be read aloud: until access control exists,
// anyone who can reach a non-loopback address can drive the Docker socket.
const unsafeExposeFlag = "unsafe-expose-without-auth"

// config is what the command line and environment say.
type config struct {
	addr         string
	unsafeExpose bool
	allowedHosts []string
	allowBinds   []string
	// allowDangerous lets re-creates carry specs that give a container
	// the host (privileged, host namespaces, binds of / ...).
	allowDangerous bool
	dev            bool
	logLevel       slog.Level
}

func parseFlags(args []string, getenv func(string) string, out io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(out)
	defAddr := getenv("DOCKMAP_ADDR")
	if defAddr == "" {
		defAddr = "127.0.0.1:8080"
	}
	fs.StringVar(&cfg.addr, "addr", defAddr, "address to listen on (env DOCKMAP_ADDR); loopback only unless --"+unsafeExposeFlag)
	fs.BoolVar(&cfg.unsafeExpose, unsafeExposeFlag, false,
		"serve a non-loopback --addr with NO access control: anyone who reaches it is root on this host")
	hosts := fs.String("allowed-host", getenv("DOCKMAP_ALLOWED_HOSTS"), "comma-separated extra host names accepted in the Host header (env DOCKMAP_ALLOWED_HOSTS)")
	binds := fs.String("allow-bind", getenv("DOCKMAP_ALLOW_BINDS"), "comma-separated host path prefixes under which containers may get bind mounts (env DOCKMAP_ALLOW_BINDS); none by default, never / or the Docker socket")
	defDanger := false
	if v := getenv("DOCKMAP_ALLOW_DANGEROUS_SPECS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return cfg, fmt.Errorf("DOCKMAP_ALLOW_DANGEROUS_SPECS=%q: want 1 or 0", v)
		}
		defDanger = b
	}
	fs.BoolVar(&cfg.allowDangerous, docker.AllowDangerousSpecsFlag, defDanger,
		"let re-creates keep or add privileged mode, added capabilities, host namespaces, devices, unconfined seccomp/AppArmor, binds of / or the Docker socket, non-local volume drivers (env DOCKMAP_ALLOW_DANGEROUS_SPECS=1); refused by default")
	fs.BoolVar(&cfg.dev, "dev", false, "serve web/static from disk (for editing the page)")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args[1:]); err != nil {
		return cfg, err
	}
	if err := cfg.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return cfg, fmt.Errorf("--log-level: %w", err)
	}
	for _, h := range strings.Split(*hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			cfg.allowedHosts = append(cfg.allowedHosts, h)
		}
	}
	var prefixes []string
	for _, p := range strings.Split(*binds, ",") {
		if p = strings.TrimSpace(p); p != "" {
			prefixes = append(prefixes, p)
		}
	}
	allowBinds, err := topology.ValidateBindPrefixes(prefixes)
	if err != nil {
		return cfg, fmt.Errorf("--allow-bind: %w", err)
	}
	cfg.allowBinds = allowBinds
	host, _, err := net.SplitHostPort(cfg.addr)
	if err != nil {
		return cfg, fmt.Errorf("--addr %q: %w", cfg.addr, err)
	}
	if !isLoopback(host) {
		if !cfg.unsafeExpose {
			return cfg, fmt.Errorf("--addr %s is not a loopback address and access control is not configured: "+
				"anyone who can reach it could drive the Docker socket, which is root on this host. "+
				"Listen on 127.0.0.1 and use an SSH tunnel, or pass --%s if you accept that", cfg.addr, unsafeExposeFlag)
		}
		if host != "" && net.ParseIP(host) != nil && !net.ParseIP(host).IsUnspecified() {
			cfg.allowedHosts = append(cfg.allowedHosts, host)
		}
	}
	return cfg, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// run is the whole program: it returns when ctx ends or serving fails.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 1 && args[1] == "probe" {
		return runProbe(ctx, args[1:], stdout)
	}
	cfg, err := parseFlags(args, getenv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: cfg.logLevel}))

	// DOCKER_HOST comes through getenv like every other setting, so tests
	// (and embedders) can point dockmap elsewhere; the TLS variables are
	// read by the SDK from the process environment.
	var dopts []docker.Option
	if h := getenv("DOCKER_HOST"); h != "" {
		dopts = append(dopts, docker.WithHost(h))
	}
	dopts = append(dopts, docker.WithDangerousSpecs(cfg.allowDangerous))
	if cfg.allowDangerous {
		logger.Warn("--" + docker.AllowDangerousSpecsFlag + " is set: re-creates may keep or add privileged mode, host namespaces and binds of / or the Docker socket")
	}
	dc, err := docker.New(dopts...)
	if err != nil {
		return err
	}
	defer dc.Close()
	h := hub.New(hub.DefaultBuffer)
	defer h.Close()
	lv := live.New(dc, h, logger, live.WithHost(dc.Host()))

	static, err := fs.Sub(web.Static, "static")
	if err != nil {
		return fmt.Errorf("embedded static files: %w", err)
	}
	if cfg.dev {
		static = os.DirFS("web/static")
	}
	prober := probe.New(dc, server.ProbePublisher(h))
	defer prober.Close()
	handler := server.New(server.Deps{
		Live: lv, Engine: dc, Linker: dc, Networks: dc, Volumes: dc, Prober: prober, Publisher: h, Logger: logger, Static: static,
		AssetVersion: version + "-" + startStamp(), AllowedHosts: cfg.allowedHosts, AllowBinds: cfg.allowBinds,
	})

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	fmt.Fprintf(stdout, "dockmap %s serving http://%s (engine %s)\n", version, ln.Addr(), dc.Host())

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return lv.Run(gctx) })
	g.Go(func() error {
		reportLeftovers(gctx, lv, dc, logger)
		return nil
	})
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h.Close() // ends every /live connection so Shutdown need not wait
		return srv.Shutdown(sctx)
	})
	return g.Wait()
}

// reportLeftovers says, once the engine is reachable, which containers an
// interrupted re-create left half-way; the page offers to roll them back or
// finish them.
func reportLeftovers(ctx context.Context, lv *live.Live, dc *docker.Client, logger *slog.Logger) {
	select {
	case <-ctx.Done():
		return
	case <-lv.Synced():
	}
	left, err := dc.Leftovers(ctx)
	if err != nil {
		logger.Warn("look for re-create leftovers", "err", err)
		return
	}
	for _, l := range left {
		logger.Warn("a re-create was interrupted: roll it back or finish it from the page",
			"container", l.OriginalName, "old", l.OldName, "new", l.NewID)
	}
}

// startStamp makes the asset version change on every start of a dev build.
func startStamp() string {
	if version != "dev" {
		return "0"
	}
	return fmt.Sprint(time.Now().Unix())
}
