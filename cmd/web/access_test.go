package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/dockmap/dockmap/internal/auth"
)

const (
	opToken   = "op-3f9a1c7e5b2d48e6a0c4f1b7d9e2a5c8"
	viewToken = "view-8e1b4d7a2c5f93e6b0d4a7c1f5e8b2d9"
)

// Which addresses and settings turn access control on, and which tokens
// dockmap makes up. 192.0.2.1 is TEST-NET-1, never a real host; parseFlags
// is tested directly because run would bind these addresses.
func TestParseFlagsAccess(t *testing.T) {
	tests := []struct {
		name           string
		args           []string
		env            map[string]string
		wantAuth       bool
		wantGenerated  [2]bool // operator, viewer
		wantAllowed    []string
		wantReadOnly   bool
		wantOutputHint string
	}{
		{name: "loopback, no token: off as before", args: []string{"--addr", "127.0.0.1:8080"}},
		{name: "IPv6 loopback", args: []string{"--addr", "[::1]:8080"}},
		{name: "localhost", args: []string{"--addr", "localhost:8080"}},
		{name: "loopback with a token: on, viewer made up", args: []string{"--operator-token", opToken},
			wantAuth: true, wantGenerated: [2]bool{false, true}},
		{name: "tokens from env", env: map[string]string{"DOCKMAP_OPERATOR_TOKEN": opToken, "DOCKMAP_VIEWER_TOKEN": viewToken},
			wantAuth: true},
		{name: "LAN IP: always on, both made up", args: []string{"--addr", "192.0.2.1:8080"},
			wantAuth: true, wantGenerated: [2]bool{true, true}, wantAllowed: []string{"192.0.2.1"}},
		{name: "all interfaces from env", env: map[string]string{"DOCKMAP_ADDR": "0.0.0.0:8080"},
			wantAuth: true, wantGenerated: [2]bool{true, true}},
		{name: "empty host", args: []string{"--addr", ":8080"}, wantAuth: true, wantGenerated: [2]bool{true, true}},
		{name: "host name", args: []string{"--addr", "dockmap.example:8080"}, wantAuth: true, wantGenerated: [2]bool{true, true}},
		{name: "old unsafe flag changes nothing", args: []string{"--addr", "192.0.2.1:8080", "--unsafe-expose-without-auth"},
			wantAuth: true, wantGenerated: [2]bool{true, true}, wantAllowed: []string{"192.0.2.1"}, wantOutputHint: "no longer has an effect"},
		{name: "read-only", args: []string{"--read-only"}, wantReadOnly: true},
		{name: "read-only from env", env: map[string]string{"DOCKMAP_READ_ONLY": "1"}, wantReadOnly: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			cfg, err := parseFlags(append([]string{"dockmap"}, tt.args...), envOf(tt.env), &out)
			if err != nil {
				t.Fatalf("parseFlags = %v", err)
			}
			if cfg.authOn != tt.wantAuth {
				t.Errorf("authOn = %v, want %v", cfg.authOn, tt.wantAuth)
			}
			if got := [2]bool{cfg.generatedOperator, cfg.generatedViewer}; got != tt.wantGenerated {
				t.Errorf("generated (operator, viewer) = %v, want %v", got, tt.wantGenerated)
			}
			if cfg.authOn {
				if err := cfg.tokens.Validate(); err != nil {
					t.Errorf("tokens: %v", err)
				}
			} else if cfg.tokens != (auth.Tokens{}) {
				t.Errorf("tokens = %+v with access control off", cfg.tokens)
			}
			for _, h := range tt.wantAllowed {
				if !slices.Contains(cfg.allowedHosts, h) {
					t.Errorf("allowedHosts = %v, want %s in it (a browser at that address would be refused)", cfg.allowedHosts, h)
				}
			}
			if cfg.readOnly != tt.wantReadOnly {
				t.Errorf("readOnly = %v, want %v", cfg.readOnly, tt.wantReadOnly)
			}
			if !strings.Contains(out.String(), tt.wantOutputHint) {
				t.Errorf("output %q, want %q", out.String(), tt.wantOutputHint)
			}
		})
	}
	// Every interface: each local address is an accepted Host.
	cfg, err := parseFlags([]string{"dockmap", "--addr", "0.0.0.0:8080"}, envOf(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, ip := range interfaceIPs() {
		if !slices.Contains(cfg.allowedHosts, ip.String()) {
			t.Errorf("allowedHosts = %v, want this machine's %s", cfg.allowedHosts, ip)
		}
	}
}

func TestParseFlagsAccessRefusals(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"short token", []string{"--operator-token", "hunter2"}, nil, "at least 22"},
		{"short token from env", nil, map[string]string{"DOCKMAP_OPERATOR_TOKEN": "0123456789"}, "at least 22"},
		{"token with a space", []string{"--operator-token", "abcdefghij klmnopqrstuvwxyz"}, nil, "only letters"},
		{"same token twice", []string{"--operator-token", opToken, "--viewer-token", opToken}, nil, "must differ"},
		{"viewer without operator", []string{"--viewer-token", viewToken}, nil, "needs --operator-token"},
		{"short viewer token", []string{"--operator-token", opToken, "--viewer-token", "x"}, nil, "viewer token"},
		{"cert without key", []string{"--tls-cert", "c.pem"}, nil, "go together"},
		{"key without cert", []string{"--tls-key", "k.pem"}, nil, "go together"},
		{"bad read-only env", nil, map[string]string{"DOCKMAP_READ_ONLY": "maybe"}, "DOCKMAP_READ_ONLY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFlags(append([]string{"dockmap"}, tt.args...), envOf(tt.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("parseFlags = %v, want an error about %q", err, tt.want)
			}
			for _, tok := range []string{"hunter2", opToken} {
				if strings.Contains(err.Error(), tok) {
					t.Errorf("the error repeats the token: %v", err)
				}
			}
		})
	}
}

// loginURL matches a printed login line; tokenLine a printed token.
var (
	loginURL  = regexp.MustCompile(`(?m)^\s+(operator|viewer)\s.*?: (https?://\S+/login\?code=(\S+))$`)
	tokenLine = regexp.MustCompile(`(?m)^\s+(operator|viewer):\s+(\S.*)$`)
)

// printedLogins returns the login URLs run printed, by role.
func printedLogins(t testing.TB, output string) map[string][]string {
	t.Helper()
	got := map[string][]string{}
	for _, m := range loginURL.FindAllStringSubmatch(output, -1) {
		got[m[1]] = append(got[m[1]], m[2])
	}
	return got
}

// printedLogin is the one login URL run printed for role.
func printedLogin(t testing.TB, output, role string) string {
	t.Helper()
	urls := printedLogins(t, output)[role]
	if len(urls) != 1 {
		t.Fatalf("printed %s login URLs %q, want one:\n%s", role, urls, output)
	}
	return urls[0]
}

// printedTokens returns the tokens run printed, by role.
func printedTokens(output string) map[string]string {
	got := map[string]string{}
	for _, m := range tokenLine.FindAllStringSubmatch(output, -1) {
		got[m[1]] = m[2]
	}
	return got
}

// noRedirect is a client that shows redirects instead of following them.
func noRedirect(hc *http.Client) *http.Client {
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// loginCookie opens a login URL and returns the session cookie it set.
func loginCookie(t *testing.T, hc *http.Client, loginURL string) *http.Cookie {
	t.Helper()
	resp, err := noRedirect(hc).Get(loginURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("GET %s = %s to %q, want 303 to /", loginURL, resp.Status, resp.Header.Get("Location"))
	}
	for _, c := range resp.Cookies() {
		if c.Name == auth.CookieName {
			return c
		}
	}
	t.Fatalf("login set no %s cookie", auth.CookieName)
	return nil
}

// pageRole fetches / with a cookie and returns the role badge.
func pageRole(t *testing.T, hc *http.Client, base string, c *http.Cookie) string {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/", nil)
	req.AddCookie(c)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / with the cookie = %s", resp.Status)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(doc.Find(`[data-testid="role"]`).Text())
}

// With an operator token given, dockmap prints a login URL per role, each
// with a one-use code (never a token), and the made-up viewer token for
// the form and for scripts (the given operator token is not repeated).
// Every API call needs a credential, each URL signs in as its role once,
// and the printed token works in the form and as a Bearer token.
func TestRunPrintsLoginURLsPerRole(t *testing.T) {
	hc := &http.Client{Timeout: 10 * time.Second}
	base, output, _ := launch(t, nil, nil, "-addr", "127.0.0.1:0", "--operator-token", opToken)
	out := output()
	if strings.Contains(out, opToken) {
		t.Errorf("the given operator token was printed:\n%s", out)
	}
	if !strings.Contains(out, "one use, valid 15 minutes") {
		t.Errorf("the output does not say the links work once for 15 minutes:\n%s", out)
	}
	viewerURL, operatorURL := printedLogin(t, out, "viewer"), printedLogin(t, out, "operator")
	tokens := printedTokens(out)
	if !strings.Contains(tokens["operator"], "--operator-token") {
		t.Errorf("operator token printed as %q, want a pointer to --operator-token", tokens["operator"])
	}
	if err := auth.ValidateToken(tokens["viewer"]); err != nil {
		t.Errorf("printed viewer token %q: %v", tokens["viewer"], err)
	}
	for role, u := range map[string]string{"viewer": viewerURL, "operator": operatorURL} {
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		if code := pu.Query().Get("code"); len(code) < auth.MinTokenLen || pu.Query().Has("token") || strings.Contains(u, tokens["viewer"]) {
			t.Errorf("%s URL %q: want a code of 128+ bits and no token", role, u)
		}
		if !strings.HasPrefix(u, base+"/login?") {
			t.Errorf("%s URL %q is not on %s", role, u, base)
		}
	}

	resp, err := hc.Get(base + "/api/graph")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/graph with no credential = %s, want 401", resp.Status)
	}
	for tok, want := range map[string]int{opToken: http.StatusOK, tokens["viewer"]: http.StatusOK} {
		req, _ := http.NewRequest("GET", base+"/api/graph", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err = hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET /api/graph with a printed or given Bearer token = %s, want %d", resp.Status, want)
		}
	}

	if got := pageRole(t, hc, base, loginCookie(t, hc, viewerURL)); got != "viewer" {
		t.Errorf("viewer URL signs in as %q, want viewer", got)
	}
	if got := pageRole(t, hc, base, loginCookie(t, hc, operatorURL)); got != "operator" {
		t.Errorf("operator URL signs in as %q, want operator", got)
	}
	// Once only.
	resp, err = noRedirect(hc).Get(viewerURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the viewer URL a second time = %s, want 401", resp.Status)
	}
	// The printed viewer token signs in through the form.
	form, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"token": {tokens["viewer"]}}.Encode()))
	form.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	form.Header.Set("Origin", base)
	resp, err = noRedirect(hc).Do(form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Errorf("login form with the printed viewer token = %s with cookies %v, want 303 with the session", resp.Status, resp.Cookies())
	}
}

// On every interface, access control is always on (this replaces the old
// refusal to start): both tokens are made up and printed, and a request
// without one is refused.
func TestRunOnAllInterfacesNeedsTokens(t *testing.T) {
	hc := &http.Client{Timeout: 10 * time.Second}
	base, output, _ := launch(t, nil, nil, "-addr", "0.0.0.0:0")
	out := output()
	operatorURL := printedLogin(t, out, "operator")
	printedLogin(t, out, "viewer")
	if tokens := printedTokens(out); auth.ValidateToken(tokens["operator"]) != nil || auth.ValidateToken(tokens["viewer"]) != nil {
		t.Errorf("printed tokens %v, want both made up", tokens)
	}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(base, "http://"))
	local := "http://127.0.0.1:" + port
	resp, err := hc.Get(local + "/api/graph")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/graph with no token = %s, want 401", resp.Status)
	}
	// The printed URL works from wherever it points (this machine's own
	// address, accepted as a Host).
	if got := pageRole(t, hc, strings.SplitN(operatorURL, "/login", 2)[0], loginCookie(t, hc, operatorURL)); got != "operator" {
		t.Errorf("printed operator URL signs in as %q", got)
	}
}

// writeCert makes a self-signed certificate for 127.0.0.1 and returns the
// files and a pool that trusts it.
func writeCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dockmap test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// With a certificate and key, dockmap serves HTTPS only, prints https
// login URLs, and its session cookie is Secure.
func TestRunServesTLS(t *testing.T) {
	certFile, keyFile, pool := writeCert(t)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	base, output, _ := launch(t, nil, hc, "-addr", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile,
		"--operator-token", opToken)
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("serving %s, want https", base)
	}
	if logins := printedLogins(t, output()); len(logins["viewer"]) != 1 || !strings.HasPrefix(logins["viewer"][0], "https://") {
		t.Errorf("printed logins = %v, want https URLs", logins)
	}
	c := loginCookie(t, hc, printedLogin(t, output(), "operator"))
	if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		t.Errorf("cookie Secure=%v HttpOnly=%v SameSite=%v, want all set and Strict", c.Secure, c.HttpOnly, c.SameSite)
	}
	// Plain HTTP on the same port gets nothing useful.
	plain := "http://" + strings.TrimPrefix(base, "https://")
	if resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(plain + "/api/graph"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP GET /api/graph = %s, want a failure", resp.Status)
		}
	}
}

// A certificate that cannot be loaded stops dockmap before it listens.
func TestRunRefusesBadCertificate(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(t.Context(), []string{"dockmap", "-addr", "127.0.0.1:0", "--tls-cert", bad, "--tls-key", bad}, envOf(nil), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--tls-cert") {
		t.Fatalf("run = %v, want an error naming --tls-cert", err)
	}
}
