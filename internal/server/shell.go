package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/topology"
	"github.com/dockmap/dockmap/web/templates"
)

// Shells opens terminals in containers (*docker.Client).
type Shells interface {
	// OpenShell starts bash or sh with a TTY of cols×rows in a running
	// container.
	OpenShell(ctx context.Context, containerID string, cols, rows int) (*docker.Shell, error)
	// ShellOf names the shell OpenShell would start, without starting it.
	ShellOf(ctx context.Context, containerID string) (string, error)
}

var _ Shells = (*docker.Client)(nil)

// Terminal socket limits and timing.
const (
	// shellMaxMessage bounds one frame from the browser: a paste of a
	// page or two of text must fit (xterm sends a paste as one message),
	// while the socket of /live needs almost nothing.
	shellMaxMessage = 64 << 10
	// defaultShellIdle closes a terminal nobody typed into and nothing
	// printed to for that long: an operator's forgotten tab should not
	// keep a root shell open on the engine.
	defaultShellIdle = 15 * time.Minute
	// shellReadBuf is the most the shell's output sends in one frame.
	shellReadBuf = 32 << 10
	// defaultTermCols and defaultTermRows size a terminal whose request
	// gave no size, until its first resize.
	defaultTermCols, defaultTermRows = 80, 24
)

// shellUpgrader checks the origin as /live's does. The shell's output is
// written as it comes, in buffers of its own, so no pool is needed.
var shellUpgrader = websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: shellReadBuf, CheckOrigin: sameOriginWS}

// shellControl is a text frame on the terminal socket. From the browser:
// {"type":"resize","cols":80,"rows":24}. From the server: "ready" (the
// shell runs: shell, container, cols, rows), "resized" (the size now in
// force, after clamping), "error" (a message for the user; the session
// goes on unless an "end" follows) and "end" (the session is over: reason,
// exit, message). Terminal input and output are binary frames, so that no
// byte typed or printed can be taken for a control message.
type shellControl struct {
	Type      string `json:"type"`
	Cols      int    `json:"cols,omitempty"`
	Rows      int    `json:"rows,omitempty"`
	Shell     string `json:"shell,omitempty"`
	Container string `json:"container,omitempty"`
	Message   string `json:"message,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Exit      *int   `json:"exit,omitempty"`
}

// shellConfig is what handleShell needs besides the engine.
type shellConfig struct {
	on     bool
	shells Shells
	src    LiveSource
	trail  *auditTrail
	engine string
	idle   time.Duration
	// pongWait and pingPeriod are /live's.
	pongWait, pingPeriod time.Duration
	log                  *slog.Logger
}

// withShellFlag tells the panel templates whether to offer the terminal.
func withShellFlag(on bool, next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		c.SetRequest(r.WithContext(templates.WithShell(r.Context(), on)))
		return next(c)
	}
}

// handleShell serves "GET /api/containers/:id/shell", a WebSocket with a
// terminal in the container (bash, else sh), for operators and only when
// dockmap runs with --shell. Everything that can go wrong before the
// shell runs is an HTTP error before the upgrade (404 no such container,
// 409 not running or no shell, 400 a bad size, 403 another origin); a
// request that is no WebSocket gets the same checks, then 426, so that a
// page whose socket failed can ask why. Every session leaves two audit
// entries, its start and its end.
func handleShell(cfg shellConfig) echo.HandlerFunc {
	if cfg.idle <= 0 {
		cfg.idle = defaultShellIdle
	}
	if cfg.pongWait <= 0 {
		cfg.pongWait = defaultPongWait
	}
	if cfg.pingPeriod <= 0 || cfg.pingPeriod >= cfg.pongWait {
		cfg.pingPeriod = cfg.pongWait * 9 / 10
	}
	return func(c echo.Context) error {
		if !cfg.on || cfg.shells == nil {
			// 404, not 403: the terminal does not exist on this dockmap
			// (like /metrics without metrics), whoever asks; a 403 would
			// say the caller's role is what is missing, which is the
			// answer a viewer gets.
			return echo.NewHTTPError(http.StatusNotFound, "the shell is off: start dockmap with --shell to open terminals in containers")
		}
		req := c.Request()
		if !sameOriginWS(req) {
			return echo.NewHTTPError(http.StatusForbidden, "cross-origin WebSocket refused")
		}
		cols, rows, err := termSize(c.QueryParam("cols"), c.QueryParam("rows"))
		if err != nil {
			return err
		}
		ctx := req.Context()
		upgrade := websocket.IsWebSocketUpgrade(req)
		ct, err := shellContainer(ctx, cfg.src, c.Param("id"))
		if err != nil {
			if upgrade {
				// An attempt at a shell, refused: on the record. The plain
				// GET that asks why afterwards is not a second attempt.
				cfg.audit(c, err, nil)
			}
			return err
		}
		name, id := ct.Container.Name, ct.Container.ID
		if !upgrade {
			if _, err := cfg.shells.ShellOf(ctx, id); err != nil {
				return shellError(name, err)
			}
			return echo.NewHTTPError(http.StatusUpgradeRequired, "this is a WebSocket: open it with a WebSocket client")
		}
		sh, err := cfg.shells.OpenShell(ctx, id, cols, rows)
		if err != nil {
			err = shellError(name, err)
			cfg.audit(c, err, nil)
			return err
		}
		conn, err := shellUpgrader.Upgrade(c.Response(), req, nil)
		if err != nil {
			// The upgrader has answered.
			sh.Hangup()
			sh.Close()
			return nil
		}
		sess := &protocol.ShellSession{Event: "start", Container: name, ContainerID: id, Engine: cfg.engine, Shell: sh.Name, Start: time.Now().UTC()}
		cfg.audit(c, nil, sess)
		cols, rows = docker.ClampTermSize(cols, rows)
		reason, exit := cfg.run(conn, sh, name, cols, rows)
		end := *sess
		end.Event, end.End, end.Reason, end.Exit = "end", time.Now().UTC(), reason, exit
		end.Seconds = end.End.Sub(end.Start).Seconds()
		cfg.audit(c, nil, &end)
		return nil
	}
}

// audit records a session's start or end (sess), or a shell that could
// not be opened (err), as the caller's.
func (cfg shellConfig) audit(c echo.Context, err error, sess *protocol.ShellSession) {
	status := http.StatusSwitchingProtocols
	e := AuditEntry{Time: time.Now().UTC(), Role: roleOf(c).String(), Remote: c.RealIP(), Method: http.MethodGet, Route: c.Path(),
		Params: map[string]string{"id": c.Param("id")}, Shell: sess}
	attrs := []any{"role", e.Role, "remote", e.Remote, "route", e.Route, "param.id", c.Param("id")}
	if err != nil {
		status, _ = statusOf(err)
		e.Error = errorDetail(err)
		attrs = append(attrs, "err", err.Error())
	}
	if sess != nil {
		attrs = append(attrs, "shell", sess.Event, "container", sess.Container)
		if sess.Event == "end" {
			attrs = append(attrs, "reason", sess.Reason, "seconds", sess.Seconds)
		}
	}
	e.Status = status
	attrs = append(attrs, "status", status)
	cfg.log.Info("audit", attrs...)
	cfg.trail.add(e)
}

// termSize reads the size a terminal asks to start with; none is 80×24.
func termSize(cs, rs string) (cols, rows int, err error) {
	cols, rows = defaultTermCols, defaultTermRows
	if cs == "" && rs == "" {
		return cols, rows, nil
	}
	c, err1 := strconv.Atoi(cs)
	r, err2 := strconv.Atoi(rs)
	if err1 != nil || err2 != nil || c < 1 || r < 1 {
		return 0, 0, fmt.Errorf("%w: cols and rows must be whole numbers of at least 1 (got %q×%q)", topology.ErrInvalid, cs, rs)
	}
	return c, r, nil
}

// shellContainer finds the container of a shell request on the map, and
// refuses one that does not run. The map may lag behind the engine (a
// container just created or started), so before a refusal it is re-listed
// once.
func shellContainer(ctx context.Context, src LiveSource, ref string) (topology.Node, error) {
	ct, err := src.Snapshot().ContainerByRef(ref)
	if errors.Is(err, topology.ErrNotFound) || (err == nil && ct.Container.State != "running") {
		snap, serr := src.Sync(ctx)
		if serr != nil {
			return topology.Node{}, serr
		}
		ct, err = snap.ContainerByRef(ref)
	}
	if err != nil {
		return topology.Node{}, err
	}
	if ct.Container.State != "running" {
		return topology.Node{}, fmt.Errorf("%w: %s is %s: start it to open a shell in it", topology.ErrConflict, ct.Container.Name, ct.Container.State)
	}
	return ct, nil
}

// shellError says in a sentence why no shell could be opened in name.
func shellError(name string, err error) error {
	switch {
	case errors.Is(err, docker.ErrNoShell):
		return echo.NewHTTPError(http.StatusConflict, name+" has no shell: neither bash nor sh is in its image (a distroless or scratch image has none)")
	case errors.Is(err, topology.ErrConflict):
		return echo.NewHTTPError(http.StatusConflict, name+" is not running (or is paused or restarting): "+err.Error())
	}
	return err
}

// run pumps the terminal until the shell exits, the browser goes, the
// session idles out or the browser sends a control message that is not
// one; it returns why, and the shell's exit status if it exited.
//
// Three goroutines: the shell's output is read by one and the browser's
// frames by another, while this one owns every write to the socket (the
// output, control answers, pings and the close).
func (cfg shellConfig) run(conn *websocket.Conn, sh *docker.Shell, name string, cols, rows int) (reason string, exit *int) {
	defer conn.Close()
	var last atomic.Int64 // unix nanoseconds of the last input or output
	touch := func() { last.Store(time.Now().UnixNano()) }
	touch()

	out := make(chan []byte)
	outDone := make(chan struct{})
	go func() {
		defer close(out)
		for {
			buf := make([]byte, shellReadBuf)
			n, err := sh.Read(buf)
			if n > 0 {
				select {
				case out <- buf[:n]:
				case <-outDone:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()

	// Answers to the browser's frames, and the end the reader found.
	replies := make(chan shellControl, 4)
	// readEnd is written before readDone closes and read after.
	var readEnd string
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		readEnd = cfg.readPump(conn, sh, replies, touch)
	}()

	write := func(typ int, data []byte) error {
		_ = conn.SetWriteDeadline(time.Now().Add(writeWait))
		return conn.WriteMessage(typ, data)
	}
	writeJSON := func(m shellControl) error {
		data, _ := json.Marshal(m)
		return write(websocket.TextMessage, data)
	}
	// hangup ends a shell whose browser went: the keys, then what it
	// still prints is drained until it exits or HangupWait passes.
	hangup := func() {
		sh.Hangup()
		_ = sh.SetReadDeadline(time.Now().Add(docker.HangupWait))
		for range out {
		}
	}
	finish := func(reason string) (string, *int) {
		close(outDone)
		sh.Close()
		ctx, cancel := context.WithTimeout(context.Background(), writeWait)
		defer cancel()
		if code, ok := sh.Exit(ctx); ok {
			return reason, &code
		}
		return reason, nil
	}

	if writeJSON(shellControl{Type: "ready", Shell: sh.Name, Container: name, Cols: cols, Rows: rows}) != nil {
		hangup()
		return finish(protocol.ShellEndClosed)
	}
	ping := time.NewTicker(cfg.pingPeriod)
	defer ping.Stop()
	idleCheck := time.NewTicker(min(cfg.idle/4, time.Minute))
	defer idleCheck.Stop()
	closeWith := func(code int, msg string) {
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, closeReason(msg)), time.Now().Add(writeWait))
	}
	for {
		select {
		case data, ok := <-out:
			if !ok {
				reason, exit := finish(protocol.ShellEndExit)
				msg := "session ended: " + sh.Name + " exited"
				if exit != nil {
					msg += " with status " + strconv.Itoa(*exit)
				}
				_ = writeJSON(shellControl{Type: "end", Reason: reason, Exit: exit, Message: msg})
				closeWith(websocket.CloseNormalClosure, msg)
				return reason, exit
			}
			touch()
			if write(websocket.BinaryMessage, data) != nil {
				hangup()
				return finish(protocol.ShellEndClosed)
			}
		case m := <-replies:
			if writeJSON(m) != nil {
				hangup()
				return finish(protocol.ShellEndClosed)
			}
		case <-readDone:
			reason := readEnd
			if reason == protocol.ShellEndInvalid {
				// The reason went as an "error" reply; drain it first.
				for len(replies) > 0 {
					_ = writeJSON(<-replies)
				}
				closeWith(websocket.CloseUnsupportedData, "not a control message: session ended")
			}
			hangup()
			return finish(reason)
		case <-ping.C:
			if write(websocket.PingMessage, nil) != nil {
				hangup()
				return finish(protocol.ShellEndClosed)
			}
		case <-idleCheck.C:
			if time.Since(time.Unix(0, last.Load())) < cfg.idle {
				continue
			}
			msg := fmt.Sprintf("session ended: nothing typed or printed for %s", cfg.idle)
			_ = writeJSON(shellControl{Type: "end", Reason: protocol.ShellEndIdle, Message: msg})
			closeWith(websocket.CloseNormalClosure, msg)
			hangup()
			return finish(protocol.ShellEndIdle)
		}
	}
}

// readPump reads the browser's frames until the socket fails or a text
// frame is no control message: binary frames are typed into the shell,
// resizes are applied and answered on replies. It returns the session's
// end reason.
func (cfg shellConfig) readPump(conn *websocket.Conn, sh *docker.Shell, replies chan<- shellControl, touch func()) string {
	conn.SetReadLimit(shellMaxMessage)
	_ = conn.SetReadDeadline(time.Now().Add(cfg.pongWait))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(cfg.pongWait)) })
	reply := func(m shellControl) {
		// Never blocks the reader on a slow writer: a browser that floods
		// resizes loses answers, not the session.
		select {
		case replies <- m:
		default:
		}
	}
	for {
		typ, r, err := conn.NextReader()
		if err != nil {
			return protocol.ShellEndClosed
		}
		data, err := io.ReadAll(r)
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				drainBeforeClose(conn)
			}
			return protocol.ShellEndClosed
		}
		touch()
		_ = conn.SetReadDeadline(time.Now().Add(cfg.pongWait))
		if typ == websocket.BinaryMessage {
			if _, err := sh.Write(data); err != nil {
				return protocol.ShellEndClosed
			}
			continue
		}
		var m shellControl
		if err := json.Unmarshal(data, &m); err != nil || m.Type != "resize" {
			reply(shellControl{Type: "error", Message: "the terminal sent a text frame that is no control message (input goes in binary frames): session ended"})
			return protocol.ShellEndInvalid
		}
		if m.Cols < 1 || m.Rows < 1 {
			reply(shellControl{Type: "error", Message: fmt.Sprintf("terminal size %d×%d refused: at least 1×1; the size stays as it was", m.Cols, m.Rows)})
			continue
		}
		cols, rows := docker.ClampTermSize(m.Cols, m.Rows)
		ctx, cancel := context.WithTimeout(context.Background(), writeWait)
		err = sh.Resize(ctx, cols, rows)
		cancel()
		if err != nil {
			reply(shellControl{Type: "error", Message: "resize the terminal: " + err.Error()})
			continue
		}
		reply(shellControl{Type: "resized", Cols: cols, Rows: rows})
	}
}

// closeReason fits msg in a close frame (123 bytes at most).
func closeReason(msg string) string {
	if len(msg) <= 123 {
		return msg
	}
	return msg[:120] + "..."
}
