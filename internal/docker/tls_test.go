package docker_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
)

// pki is a CA and what it signed, written as a docker CLI context keeps
// them (ca.pem, cert.pem, key.pem).
type pki struct {
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	caPEM  []byte
	serial int64
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	return &pki{ca: ca, caKey: key, caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), serial: 1}
}

// issue signs a certificate for a server (at 127.0.0.1) or a client.
func (p *pki) issue(t *testing.T, server bool) (certPEM, keyPEM []byte) {
	t.Helper()
	p.serial++
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(p.serial), Subject: pkix.Name{CommonName: "dockmap test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// TestTLSFilesOfAContext: an engine behind mutual TLS is reached with a
// context's CA, certificate and key, and refused with a CA that did not
// sign it.
func TestTLSFilesOfAContext(t *testing.T) {
	p := newPKI(t)
	srvCert, srvKey := p.issue(t, true)
	cliCert, cliKey := p.issue(t, false)
	pair, err := tls.X509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(p.ca)
	// Just enough of an engine for a version check.
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.41")
		if strings.HasSuffix(r.URL.Path, "/version") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"Version":"tls-fake","ApiVersion":"1.41"}`))
			return
		}
		_, _ = w.Write([]byte("OK"))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	srv.StartTLS()
	defer srv.Close()

	dir := t.TempDir()
	write := func(name string, b []byte) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	ca, cert, key := write("ca.pem", p.caPEM), write("cert.pem", cliCert), write("key.pem", cliKey)
	other := write("other-ca.pem", newPKI(t).caPEM)
	host := "tcp://" + strings.TrimPrefix(srv.URL, "https://")

	version := func(opts ...docker.Option) (string, error) {
		c, err := docker.New(opts...)
		if err != nil {
			return "", err
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		v, _, err := c.Version(ctx)
		return v, err
	}
	if v, err := version(docker.WithTLSFiles(ca, cert, key, false), docker.WithHost(host)); err != nil || v != "tls-fake" {
		t.Errorf("with the context's files: version %q, %v", v, err)
	}
	if _, err := version(docker.WithTLSFiles(other, cert, key, false), docker.WithHost(host)); err == nil {
		t.Error("a CA that did not sign the engine's certificate was trusted")
	}
	if v, err := version(docker.WithTLSFiles("", cert, key, true), docker.WithHost(host)); err != nil || v != "tls-fake" {
		t.Errorf("SkipTLSVerify without a CA: version %q, %v", v, err)
	}
	if _, err := version(docker.WithTLSFiles(ca, "", "", false), docker.WithHost(host)); err == nil {
		t.Error("reached an engine that wants a client certificate without one")
	}
}
