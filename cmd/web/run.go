package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/docker/go-units"

	"github.com/dockmap/dockmap/internal/auth"
	"github.com/dockmap/dockmap/internal/connlimit"
	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/engines"
	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/job"
	"github.com/dockmap/dockmap/internal/lesson"
	"github.com/dockmap/dockmap/internal/live"
	"github.com/dockmap/dockmap/internal/metrics"
	"github.com/dockmap/dockmap/internal/probe"
	"github.com/dockmap/dockmap/internal/server"
	"github.com/dockmap/dockmap/internal/timeline"
	"github.com/dockmap/dockmap/internal/topology"
	"github.com/dockmap/dockmap/web"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// removedUnsafeFlag was the way to serve a non-loopback address before
// dockmap had access control. It is still accepted so that old command
// lines keep working, but it changes nothing: such an address always needs
// a token now.
const removedUnsafeFlag = "unsafe-expose-without-auth"

// config is what the command line and environment say.
type config struct {
	addr         string
	allowedHosts []string
	allowBinds   []string
	// allowDangerous lets re-creates carry specs that give a container
	// the host (privileged, host namespaces, binds of / ...).
	allowDangerous bool
	// tokens are the configured or generated credentials; access control
	// is on exactly when authOn.
	tokens auth.Tokens
	authOn bool
	// generated says which tokens dockmap made up (they are printed).
	generatedOperator, generatedViewer bool
	readOnly                           bool
	tlsCert, tlsKey                    string
	dev                                bool
	logLevel                           slog.Level
	// maxConns and maxConnsPerClient cap the connections held at once, in
	// all and per client address (internal/connlimit).
	maxConns, maxConnsPerClient int
	// urlHosts are the host names the printed URLs use.
	urlHosts []string
	// lessonsDir holds the instructor's lesson files (--lessons).
	lessonsDir string
	// timelineMax is the session recording's byte budget (--timeline-max).
	timelineMax int
	// replay, when set, is the recording read from replayFile
	// (--replay): dockmap serves it read-only, with no engine.
	replay     *timeline.Recorder
	replayFile string
	// engines are the engines besides the default one (--engine,
	// --context), each with its own connection and live loop.
	engines []engines.Spec
	// metricsPublic serves GET /metrics with no credential.
	metricsPublic bool
	// viewerLogs lets viewers read containers' logs.
	viewerLogs bool
	// shell offers operators a terminal in containers (--shell).
	shell bool
}

func boolEnv(getenv func(string) string, name string) (bool, error) {
	v := getenv(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: want 1 or 0", name, v)
	}
	return b, nil
}

// intEnv reads a positive whole number from the environment, or def.
func intEnv(getenv func(string) string, name string, def int) (int, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive whole number", name, v)
	}
	return n, nil
}

func parseFlags(args []string, getenv func(string) string, out io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(out)
	defAddr := getenv("DOCKMAP_ADDR")
	if defAddr == "" {
		defAddr = "127.0.0.1:8080"
	}
	fs.StringVar(&cfg.addr, "addr", defAddr, "address to listen on (env DOCKMAP_ADDR); any non-loopback address needs tokens, generated at start when none are given")
	unsafeOld := fs.Bool(removedUnsafeFlag, false, "no longer has an effect: a non-loopback --addr always needs a token now")
	hosts := fs.String("allowed-host", getenv("DOCKMAP_ALLOWED_HOSTS"), "comma-separated extra host names accepted in the Host header (env DOCKMAP_ALLOWED_HOSTS)")
	binds := fs.String("allow-bind", getenv("DOCKMAP_ALLOW_BINDS"), "comma-separated host path prefixes under which containers may get bind mounts (env DOCKMAP_ALLOW_BINDS); none by default, never / or the Docker socket")
	defDanger, err := boolEnv(getenv, "DOCKMAP_ALLOW_DANGEROUS_SPECS")
	if err != nil {
		return cfg, err
	}
	fs.BoolVar(&cfg.allowDangerous, docker.AllowDangerousSpecsFlag, defDanger,
		"let re-creates keep or add privileged mode, added capabilities, host namespaces, devices, unconfined seccomp/AppArmor, binds of / or the Docker socket, non-local volume drivers (env DOCKMAP_ALLOW_DANGEROUS_SPECS=1); refused by default")
	fs.StringVar(&cfg.tokens.Operator, "operator-token", getenv("DOCKMAP_OPERATOR_TOKEN"),
		"token of the operator role, who may change everything (env DOCKMAP_OPERATOR_TOKEN, which `ps` cannot show); at least 22 characters")
	fs.StringVar(&cfg.tokens.Viewer, "viewer-token", getenv("DOCKMAP_VIEWER_TOKEN"),
		"token of the viewer role, who watches but changes nothing (env DOCKMAP_VIEWER_TOKEN)")
	defRO, err := boolEnv(getenv, "DOCKMAP_READ_ONLY")
	if err != nil {
		return cfg, err
	}
	fs.BoolVar(&cfg.readOnly, "read-only", defRO, "turn every action off for everyone, operators included (env DOCKMAP_READ_ONLY=1)")
	fs.StringVar(&cfg.tlsCert, "tls-cert", getenv("DOCKMAP_TLS_CERT"), "serve HTTPS with this certificate (PEM; env DOCKMAP_TLS_CERT); needs --tls-key")
	fs.StringVar(&cfg.tlsKey, "tls-key", getenv("DOCKMAP_TLS_KEY"), "private key of --tls-cert (PEM; env DOCKMAP_TLS_KEY)")
	defConns, err := intEnv(getenv, "DOCKMAP_MAX_CONNS", connlimit.DefaultTotal())
	if err != nil {
		return cfg, err
	}
	fs.IntVar(&cfg.maxConns, "max-conns", defConns, "most connections held at once, from all clients (env DOCKMAP_MAX_CONNS); by default 4096, or the open-file limit less 256 when lower")
	defPerClient, err := intEnv(getenv, "DOCKMAP_MAX_CONNS_PER_CLIENT", connlimit.DefaultPerClient)
	if err != nil {
		return cfg, err
	}
	fs.IntVar(&cfg.maxConnsPerClient, "max-conns-per-client", defPerClient, "most connections held at once from one client address, or one IPv6 /64 (env DOCKMAP_MAX_CONNS_PER_CLIENT); everyone behind one ssh -L or proxy is one client")
	fs.BoolVar(&cfg.dev, "dev", false, "serve web/static from disk (for editing the page)")
	fs.StringVar(&cfg.lessonsDir, "lessons", getenv("DOCKMAP_LESSONS"), "a directory of lesson files (*.yaml) served beside the built-in ones (env DOCKMAP_LESSONS); a bad file is logged with its line and left out")
	tlMax := fs.String("timeline-max", getenv("DOCKMAP_TIMELINE_MAX"), "most memory the session's recording (the timeline) holds, e.g. 64MiB (env DOCKMAP_TIMELINE_MAX); past it the oldest part goes")
	fs.StringVar(&cfg.replayFile, "replay", "", "open a recorded session (a file from GET /api/timeline/export) read-only, with no engine")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	var engineFlags, contextFlags []string
	fs.Func("engine", "another engine to connect to, NAME=DOCKER_HOST (unix://, tcp:// with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, ssh://); repeatable", func(v string) error {
		engineFlags = append(engineFlags, v)
		return nil
	})
	defMetrics, err := boolEnv(getenv, "DOCKMAP_METRICS_PUBLIC")
	if err != nil {
		return cfg, err
	}
	fs.BoolVar(&cfg.metricsPublic, "metrics-public", defMetrics, "serve GET /metrics (Prometheus) to anyone, for a scraper without a token (env DOCKMAP_METRICS_PUBLIC=1); by default it needs a viewer's credential")
	defViewerLogs, err := boolEnv(getenv, "DOCKMAP_VIEWER_LOGS")
	if err != nil {
		return cfg, err
	}
	fs.BoolVar(&cfg.viewerLogs, "viewer-logs", defViewerLogs, "let viewers read containers' logs too (env DOCKMAP_VIEWER_LOGS=1); logs can hold secrets, so by default only operators may")
	defShell, err := boolEnv(getenv, "DOCKMAP_SHELL")
	if err != nil {
		return cfg, err
	}
	fs.BoolVar(&cfg.shell, "shell", defShell, "offer operators a terminal (bash, else sh) in a running container's panel, every session audited (env DOCKMAP_SHELL=1); off by default, never for viewers")
	enginesFile := fs.String("engines-file", getenv("DOCKMAP_ENGINES_FILE"), "a file of engines, one NAME=DOCKER_HOST per line (# comments), as many --engine: one per participant of a class (env DOCKMAP_ENGINES_FILE)")
	fs.Func("context", "another engine from a docker CLI context, NAME or ENGINE=CONTEXT (read from $DOCKER_CONFIG or ~/.docker); repeatable", func(v string) error {
		contextFlags = append(contextFlags, v)
		return nil
	})
	if err := fs.Parse(args[1:]); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q (did you mean dockmap probe?)", fs.Arg(0))
	}
	if *unsafeOld {
		fmt.Fprintf(out, "--%s no longer has an effect: a non-loopback --addr always needs a token\n", removedUnsafeFlag)
	}
	if err := cfg.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return cfg, fmt.Errorf("--log-level: %w", err)
	}
	if cfg.maxConns <= 0 || cfg.maxConnsPerClient <= 0 {
		return cfg, errors.New("--max-conns and --max-conns-per-client must be positive")
	}
	if cfg.lessonsDir != "" {
		if st, err := os.Stat(cfg.lessonsDir); err != nil || !st.IsDir() {
			return cfg, fmt.Errorf("--lessons %s: not a directory", cfg.lessonsDir)
		}
	}
	if cfg.timelineMax, err = parseBytes(*tlMax, timeline.DefaultMax); err != nil {
		return cfg, fmt.Errorf("--timeline-max: %w", err)
	}
	if cfg.timelineMax < minTimelineMax {
		return cfg, fmt.Errorf("--timeline-max %s: want at least 1MiB (a keyframe of a big engine must fit)", *tlMax)
	}
	if cfg.replayFile != "" {
		// Read here, before anything listens: a file that cannot be
		// replayed stops the start with its line.
		if cfg.replay, err = timeline.ReadFile(cfg.replayFile, timeline.WithMax(cfg.timelineMax)); err != nil {
			return cfg, fmt.Errorf("--replay %w", err)
		}
	}
	if *enginesFile != "" {
		more, err := readEnginesFile(*enginesFile)
		if err != nil {
			return cfg, err
		}
		engineFlags = append(engineFlags, more...)
	}
	if cfg.engines, err = engines.Parse(engineFlags, contextFlags, getenv); err != nil {
		return cfg, err
	}
	if cfg.replay != nil && len(cfg.engines) > 0 {
		return cfg, errors.New("--engine and --context do not go with --replay, which has no engine")
	}
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return cfg, errors.New("--tls-cert and --tls-key go together: give both or neither")
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
	loopback := isLoopback(host)
	cfg.urlHosts = []string{host}
	if !loopback {
		switch ip := net.ParseIP(host); {
		case host == "" || ip != nil && ip.IsUnspecified():
			// Every interface: each of its addresses is a way in.
			cfg.urlHosts = nil
			for _, a := range interfaceIPs() {
				cfg.allowedHosts = append(cfg.allowedHosts, a.String())
				if !a.IsLoopback() && a.To4() != nil {
					cfg.urlHosts = append(cfg.urlHosts, a.String())
				}
			}
			if len(cfg.urlHosts) == 0 {
				cfg.urlHosts = []string{"localhost"}
			}
		case ip != nil:
			cfg.allowedHosts = append(cfg.allowedHosts, host)
		}
	}

	// Access control: off only for a loopback address with no token given.
	if cfg.tokens.Viewer != "" && cfg.tokens.Operator == "" {
		return cfg, errors.New("--viewer-token needs --operator-token too: otherwise nobody could act")
	}
	cfg.authOn = cfg.tokens.Operator != "" || !loopback
	if cfg.authOn {
		if cfg.tokens.Operator == "" {
			cfg.tokens.Operator, cfg.generatedOperator = auth.NewToken(), true
		}
		if cfg.tokens.Viewer == "" {
			cfg.tokens.Viewer, cfg.generatedViewer = auth.NewToken(), true
		}
		if err := cfg.tokens.Validate(); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// minTimelineMax is the least --timeline-max.
const minTimelineMax = 1 << 20

// parseBytes reads a size such as 64MiB, 64m or 67108864 (binary units,
// as docker run --memory reads them), def when empty.
func parseBytes(v string, def int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := units.RAMInBytes(v)
	if err != nil || n <= 0 || n > math.MaxInt32*1024 {
		return 0, fmt.Errorf("%q: want a size such as 64MiB", v)
	}
	return int(n), nil
}

// interfaceIPs lists this machine's addresses.
func interfaceIPs() []net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var ips []net.IP
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			ips = append(ips, n.IP)
		}
	}
	return ips
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// printAccess says, once, how to get in: with access control on, a login
// link per role, each with a fresh one-use code, and the tokens dockmap
// made up (nobody else knows them; given ones are not repeated), for the
// login form and for scripts. Links carry codes, never tokens: a link
// lingers in browser history and chats, and a used or expired code there
// is worthless. This goes to stdout, never through the logger, so that no
// log collector keeps a credential.
func printAccess(w io.Writer, cfg config, authn *auth.Auth, scheme string, port string) error {
	if !cfg.authOn {
		fmt.Fprintf(w, "access control off: loopback address and no token, every local user is an operator\n")
		return nil
	}
	if cfg.readOnly {
		fmt.Fprintf(w, "--read-only: nobody can change anything\n")
	}
	fmt.Fprintf(w, "access control on: every request needs a sign-in. Login links (one use, valid %s):\n", minutes(authn.CodeTTL()))
	base := func(h string) string { return (&url.URL{Scheme: scheme, Host: net.JoinHostPort(h, port)}).String() }
	for _, r := range []struct {
		role auth.Role
		what string
	}{{auth.Operator, "can change everything, root on this host"}, {auth.Viewer, "watches, changes nothing"}} {
		code, err := authn.NewCode(r.role)
		if err != nil {
			return fmt.Errorf("login link for the %s: %w", r.role, err)
		}
		fmt.Fprintf(w, "  %-8s (%s): %s/login?code=%s\n", r.role, r.what, base(cfg.urlHosts[0]), code.Code)
	}
	if len(cfg.urlHosts) > 1 {
		var others []string
		for _, h := range cfg.urlHosts[1:] {
			others = append(others, base(h))
		}
		fmt.Fprintf(w, "  (they work at %s too: change the address)\n", strings.Join(others, ", "))
	}
	fmt.Fprintf(w, "tokens, to paste into the login form or send as Authorization: Bearer <token>:\n")
	token := func(role auth.Role, token string, generated bool, flagName string) {
		if !generated {
			token = "<given with " + flagName + ">"
		}
		fmt.Fprintf(w, "  %-9s %s\n", role.String()+":", token)
	}
	token(auth.Operator, cfg.tokens.Operator, cfg.generatedOperator, "--operator-token")
	token(auth.Viewer, cfg.tokens.Viewer, cfg.generatedViewer, "--viewer-token")
	fmt.Fprintf(w, "more login links: Invite… in the page's header, or POST /api/login-codes\n")
	return nil
}

// minutes says d in whole minutes when it is some ("15 minutes").
func minutes(d time.Duration) string {
	if d%time.Minute == 0 {
		if d == time.Minute {
			return "1 minute"
		}
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	return d.String()
}

// run is the whole program: it returns when ctx ends or serving fails.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 1 && args[1] == "probe" {
		return runProbe(ctx, args[1:], stdout)
	}
	if len(args) > 1 && args[1] == "lease" {
		return runLease(ctx, os.Stdin)
	}
	cfg, err := parseFlags(args, getenv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: cfg.logLevel}))

	h := hub.New(hub.DefaultBuffer)
	defer h.Close()
	static, err := fs.Sub(web.Static, "static")
	if err != nil {
		return fmt.Errorf("embedded static files: %w", err)
	}
	if cfg.dev {
		static = os.DirFS("web/static")
	}
	var authn *auth.Auth
	if cfg.authOn {
		if authn, err = auth.New(cfg.tokens); err != nil {
			return err
		}
	}
	lessons := lesson.Builtin()
	if cfg.lessonsDir != "" {
		more, errs := lesson.LoadDir(cfg.lessonsDir, lessons...)
		for _, err := range errs {
			logger.Warn("lesson file left out", "dir", cfg.lessonsDir, "error", err.Error())
		}
		for _, l := range more {
			logger.Info("lesson loaded", "id", l.ID, "file", filepath.Join(cfg.lessonsDir, l.Source), "steps", len(l.Steps))
		}
		lessons = append(lessons, more...)
	}
	met := metrics.New()
	closing := make(chan struct{})
	deps := server.Deps{
		Closing: closing,
		Metrics: met.Handler(), MetricsPublic: cfg.metricsPublic, Observer: met, ViewerLogs: cfg.viewerLogs,
		Publisher: h, Logger: logger, Static: static,
		AssetVersion: version + "-" + startStamp(), AllowedHosts: cfg.allowedHosts, AllowBinds: cfg.allowBinds,
		AllowDangerous: cfg.allowDangerous, Auth: authn, ReadOnly: cfg.readOnly, Lessons: lessons, Shell: cfg.shell,
	}
	// What runs beside the server: the live map and its recording, or
	// nothing for a replay.
	var background []func(context.Context) error
	engineHost := "none: replay of " + cfg.replayFile
	if cfg.replay != nil {
		deps.Live, deps.Timeline, deps.Replay = timeline.NewReplay(cfg.replay, h), cfg.replay, &server.Replay{File: cfg.replayFile}
		sum := cfg.replay.Summary(true, time.Time{}, time.Time{}, 1)
		logger.Info("replaying a recorded session, read-only", "file", cfg.replayFile, "start", sum.Start, "end", sum.End, "frames", sum.Count)
	} else {
		// DOCKER_HOST comes through getenv like every other setting, so
		// tests (and embedders) can point dockmap elsewhere; the TLS
		// variables are read by the SDK from the process environment.
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
		installTestHooks(dc, getenv, stdout)
		es, err := newEngineSet(dc, cfg.engines, h, cfg.allowDangerous, met, logger)
		if err != nil {
			return err
		}
		defer es.close()
		deps.Engines, deps.EngineClients, deps.SwarmActors = es.reg, es.client, es.actor
		// Every engine's Live publishes to a hub of its own, and the Union
		// joins them into the page's map: with the local engine alone too,
		// for it may manage a Swarm (docker swarm init), which the Union
		// draws.
		localHub := hub.New(hub.DefaultBuffer)
		defer localHub.Close()
		lv := live.New(dc, localHub, logger, live.WithHost(dc.Host()), live.WithName(engines.Local),
			live.WithOnEngine(es.onEngine(engines.Local)), live.WithRelisted(met.Relisted))
		u := live.NewUnion(h, logger, append([]live.Member{{Name: engines.Local, Live: lv, Hub: localHub, Swarm: swarmOf(dc)}}, es.members...)...)
		var src server.LiveSource = u
		background = append(background, u.Run)
		prober := probe.New(dc, server.ProbePublisher(h))
		defer prober.Close()
		if len(es.members) > 0 {
			// Each engine's actions plan on its own graph, with its Swarm's
			// networks, the default engine's included (dispatch.go).
			deps.Others = es.others
			es.others[engines.Local] = server.Deps{Live: lv, Engine: dc, Recreator: dc, Networks: dc, Volumes: dc, Prober: prober, Exporter: dc, Shells: dc}
			for name, o := range es.others {
				o.Live = u.View(name)
				es.others[name] = o
			}
		}
		rec := timeline.New(timeline.WithMax(cfg.timelineMax))
		lessonLive := server.NewLessonLive(src, h, lessons, probe.NewResults(0))
		deps.LessonLive = lessonLive
		deps.Live, deps.Engine, deps.Recreator, deps.Networks, deps.Volumes, deps.Prober, deps.Timeline = src, dc, dc, dc, dc, prober, rec
		deps.Exporter = dc
		deps.Shells = dc
		engineHost = dc.Host()
		background = append(background, es.runs...)
		background = append(background, lv.Run, lessonLive.Run,
			func(ctx context.Context) error { return rec.Run(ctx, src) },
			func(ctx context.Context) error {
				reportLeftovers(ctx, lv, dc, logger)
				return nil
			})
	}
	jobs := job.New(h)
	// Last in, first out: the jobs end (a re-create rolls back) before the
	// prober, the engine client and the hub close.
	defer jobs.Close()
	deps.Jobs = jobs
	handler := server.New(deps)

	var tlsConfig *tls.Config
	scheme := "http"
	if cfg.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
		if err != nil {
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		scheme = "https"
	}

	ln, err := listen(cfg, tlsConfig, logger)
	if err != nil {
		return err
	}
	srv := newHTTPServer(handler)
	// The URL printed is one a browser can open: on every interface, the
	// first address of this machine rather than [::].
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	fmt.Fprintf(stdout, "dockmap %s serving %s://%s (listening on %s, engine %s)\n", version, scheme,
		net.JoinHostPort(cfg.urlHosts[0], port), ln.Addr(), engineHost)
	if err := printAccess(stdout, cfg, authn, scheme, port); err != nil {
		ln.Close()
		return err
	}

	background = append(background, func(ctx context.Context) error { return met.Follow(ctx, h) })
	g, gctx := errgroup.WithContext(ctx)
	for _, run := range background {
		g.Go(func() error { return run(gctx) })
	}
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
		h.Close()      // ends every /live connection so Shutdown need not wait
		close(closing) // and every followed log
		return srv.Shutdown(sctx)
	})
	return g.Wait()
}

// listen opens the address with the connection caps, and TLS on top when
// configured: the caps count TCP connections, so a client cannot get past
// them by never finishing its handshake. A refused plain-HTTP connection
// gets a one-line 503 first; a TLS one is only closed (the client expects
// a handshake, not text).
func listen(cfg config, tlsConfig *tls.Config, logger *slog.Logger) (net.Listener, error) {
	inner, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	if files := connlimit.FileLimit(); files > 0 && cfg.maxConns > files-64 {
		logger.Warn("--max-conns is close to the limit on open files: a flood of connections may still exhaust them",
			"max-conns", cfg.maxConns, "open-file limit", files)
	}
	var opts []connlimit.Option
	if tlsConfig == nil {
		opts = append(opts, connlimit.WithReject(connlimit.ServiceUnavailable))
	}
	var ln net.Listener = connlimit.New(inner, cfg.maxConns, cfg.maxConnsPerClient, opts...)
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	return ln, nil
}

// newHTTPServer serves handler with timeouts that bound what a slow or
// silent client can hold: headers within 5 s, a whole request (body
// included) within 10 s. Once the body is read the read deadline is lifted
// (net/http does it for its background read), so a long action is not cut
// short by it.
func newHTTPServer(handler http.Handler) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
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
		for _, c := range l.Containers {
			if l.Elsewhere {
				logger.Info("another dockmap is re-creating a container on this engine", "container", c.OriginalName, "job", l.Job)
				continue
			}
			logger.Warn("a re-create was interrupted: roll it back or finish it from the page",
				"container", c.OriginalName, "old", c.OldName, "new", c.NewID, "job", l.Job)
		}
	}
}

// startStamp makes the asset version change on every start of a dev build.
func startStamp() string {
	if version != "dev" {
		return "0"
	}
	return fmt.Sprint(time.Now().Unix())
}

// readEnginesFile reads --engines-file: one NAME=DOCKER_HOST per line,
// blank lines and # comments left out. A line that is no engine stops the
// start with its line number; the engines themselves are checked as
// --engine's are.
func readEnginesFile(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--engines-file: %w", err)
	}
	var out []string
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !strings.Contains(line, "=") {
			return nil, fmt.Errorf("--engines-file %s:%d: %q: want NAME=DOCKER_HOST", path, i+1, line)
		}
		out = append(out, line)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--engines-file %s: no engine in it", path)
	}
	return out, nil
}
