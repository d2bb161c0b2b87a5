// Package kvhttptest is an httptest server that answers HashiCorp Vault's
// KV v1 and v2 read API (GET /v1/MOUNT/data/PATH and GET /v1/MOUNT/PATH)
// from an in-memory map, for testing generated helpers that speak the
// HTTP API directly. It checks the X-Vault-Token header and, when set,
// X-Vault-Namespace, like Vault does.
package kvhttptest

import (
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Server is a fake Vault KV server.
type Server struct {
	*httptest.Server
	// Token is the token requests must carry.
	Token string
	// Namespace, when set, is the namespace requests must name.
	Namespace string

	mu    sync.Mutex
	kv2   map[string]map[string]string // "mount/path" -> fields
	kv1   map[string]map[string]string
	reads int
	fail  int // status to answer every request with, when non-zero
}

// New starts a plain-HTTP server; NewTLS one with a self-signed
// certificate (Certificate() gives it for VAULT_CACERT). Both stop when
// Close is called.
func New(token string) *Server {
	s := newServer(token)
	s.Server = httptest.NewServer(s)
	return s
}

// NewTLS starts an HTTPS server.
func NewTLS(token string) *Server {
	s := newServer(token)
	s.Server = httptest.NewUnstartedServer(s)
	// Clients that reject the certificate are expected in tests.
	s.Server.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.StartTLS()
	return s
}

func newServer(token string) *Server {
	return &Server{Token: token, kv2: map[string]map[string]string{}, kv1: map[string]map[string]string{}}
}

// PutV2 stores fields at mount/path in a KV v2 mount.
func (s *Server) PutV2(mount, path string, fields map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kv2[mount+"/"+path] = fields
}

// PutV1 stores fields at mount/path in a KV v1 mount.
func (s *Server) PutV1(mount, path string, fields map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kv1[mount+"/"+path] = fields
}

// FailWith makes every later request answer status (0 restores).
func (s *Server) FailWith(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = status
}

// Reads returns how many secret reads were answered successfully.
func (s *Server) Reads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	errorf := func(status int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string][]string{"errors": {msg}})
	}
	switch {
	case s.fail != 0:
		errorf(s.fail, "injected failure")
		return
	case r.Method != http.MethodGet:
		errorf(http.StatusMethodNotAllowed, "read-only fake")
		return
	case r.Header.Get("X-Vault-Token") != s.Token:
		errorf(http.StatusForbidden, "permission denied")
		return
	case s.Namespace != "" && r.Header.Get("X-Vault-Namespace") != s.Namespace:
		errorf(http.StatusForbidden, "permission denied (namespace)")
		return
	}
	p, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		errorf(http.StatusNotFound, "no handler")
		return
	}
	var body any
	if mount, rest, found := strings.Cut(p, "/data/"); found {
		if fields, ok := s.kv2[mount+"/"+rest]; ok {
			body = map[string]any{"data": map[string]any{"data": fields, "metadata": map[string]any{"version": 1}}}
		}
	}
	if body == nil {
		if fields, ok := s.kv1[p]; ok {
			body = map[string]any{"data": fields}
		}
	}
	if body == nil {
		errorf(http.StatusNotFound, "")
		return
	}
	s.reads++
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

// WriteCACert writes the TLS server's certificate as PEM into dir and
// returns the file's path, for VAULT_CACERT.
func (s *Server) WriteCACert(dir string) (string, error) {
	p := filepath.Join(dir, "kvhttptest-ca.pem")
	c := s.Certificate()
	return p, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o600)
}
