// Package gsmfake is a wire-level stand-in for Google Secret Manager: an
// in-process gRPC server implementing the parts of
// secretmanagerpb.SecretManagerServiceServer that env2vault calls, with
// the real service's status codes, so tests drive the real Go client
// library against it. It also counts calls and injects faults.
//
// It implements CreateSecret, GetSecret, ListSecrets, AddSecretVersion,
// AccessSecretVersion (numbered versions and the "latest" alias),
// GetSecretVersion, ListSecretVersions and DisableSecretVersion; every
// other method answers Unimplemented. It is not a complete model of the
// service: no IAM, no etags, no expiry, no rotation.
package gsmfake

import (
	"context"
	"fmt"
	"hash/crc32"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Options configure a Server.
type Options struct {
	// RequireAuth makes every call without an "authorization" header fail
	// with Unauthenticated, as the real service does.
	RequireAuth bool
}

// Server is a running fake. It is safe for concurrent use.
type Server struct {
	secretmanagerpb.UnimplementedSecretManagerServiceServer

	opts Options
	lis  net.Listener
	srv  *grpc.Server

	mu      sync.Mutex
	secrets map[string]*secretState // by full name projects/P/secrets/S
	order   []string                // creation order of full names
	calls   map[string]int          // by method name, e.g. "AddSecretVersion"
	faults  map[string][]codes.Code // queued failures by method name
	after   map[string][]codes.Code // queued failures after the call took effect
}

type secretState struct {
	secret   *secretmanagerpb.Secret
	versions []*versionState // versions[i] is version i+1
}

type versionState struct {
	meta *secretmanagerpb.SecretVersion
	data []byte
}

// Start listens on a free loopback port and serves until Close.
func Start(opts Options) (*Server, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("gsmfake: listening: %w", err)
	}
	s := &Server{
		opts:    opts,
		lis:     lis,
		secrets: map[string]*secretState{},
		calls:   map[string]int{},
		faults:  map[string][]codes.Code{},
		after:   map[string][]codes.Code{},
	}
	s.srv = grpc.NewServer(grpc.UnaryInterceptor(s.intercept))
	secretmanagerpb.RegisterSecretManagerServiceServer(s.srv, s)
	go func() { _ = s.srv.Serve(lis) }()
	return s, nil
}

// Addr returns the host:port the server listens on.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Close stops the server.
func (s *Server) Close() { s.srv.Stop() }

// FailNext makes the next n calls of method (e.g. "AddSecretVersion")
// fail with code before they reach the store.
func (s *Server) FailNext(method string, code codes.Code, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[method] = append(s.faults[method], code)
	}
}

// FailAfter makes the next n calls of method take effect and then fail
// with code, as when a response is lost on the way back.
func (s *Server) FailAfter(method string, code codes.Code, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.after[method] = append(s.after[method], code)
	}
}

// Calls returns how many times method was called, failed calls included.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Secret returns a copy of the secret with full name
// projects/P/secrets/S, and whether it exists.
func (s *Server) Secret(name string) (*secretmanagerpb.Secret, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.secrets[name]
	if !ok {
		return nil, false
	}
	return proto.Clone(st.secret).(*secretmanagerpb.Secret), true
}

// Versions returns how many versions the secret holds (0 if missing).
func (s *Server) Versions(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.secrets[name]; ok {
		return len(st.versions)
	}
	return 0
}

// AddVersion stores data as a new version of an existing secret, as
// another writer would, and returns the version name.
func (s *Server) AddVersion(name string, data []byte) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.secrets[name]
	if !ok {
		return "", fmt.Errorf("gsmfake: secret %s not found", name)
	}
	return st.add(data).Name, nil
}

// Disable marks a version (full version name) disabled.
func (s *Server) Disable(version string) error {
	_, err := s.DisableSecretVersion(context.Background(), &secretmanagerpb.DisableSecretVersionRequest{Name: version})
	return err
}

func (s *Server) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	method := info.FullMethod[strings.LastIndex(info.FullMethod, "/")+1:]
	s.mu.Lock()
	s.calls[method]++
	var fault codes.Code
	if q := s.faults[method]; len(q) > 0 {
		fault, s.faults[method] = q[0], q[1:]
	}
	s.mu.Unlock()
	if fault != codes.OK {
		return nil, status.Errorf(fault, "injected fault for %s", method)
	}
	if s.opts.RequireAuth {
		md, _ := metadata.FromIncomingContext(ctx)
		if len(md.Get("authorization")) == 0 {
			return nil, status.Error(codes.Unauthenticated, "Request is missing required authentication credential.")
		}
	}
	resp, err := handler(ctx, req)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	var late codes.Code
	if q := s.after[method]; len(q) > 0 {
		late, s.after[method] = q[0], q[1:]
	}
	s.mu.Unlock()
	if late != codes.OK {
		return nil, status.Errorf(late, "injected fault after %s took effect", method)
	}
	return resp, nil
}

var (
	projectRe  = regexp.MustCompile(`^projects/([^/]+)$`)
	secretRe   = regexp.MustCompile(`^projects/([^/]+)/secrets/([^/]+)$`)
	versionRe  = regexp.MustCompile(`^(projects/[^/]+/secrets/[^/]+)/versions/([^/]+)$`)
	secretIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	labelKeyRe = regexp.MustCompile(`^\p{Ll}[\p{Ll}\p{Lo}0-9_-]{0,62}$`)
	labelValRe = regexp.MustCompile(`^[\p{Ll}\p{Lo}0-9_-]{0,63}$`)
)

func (st *secretState) add(data []byte) *secretmanagerpb.SecretVersion {
	n := len(st.versions) + 1
	v := &versionState{
		meta: &secretmanagerpb.SecretVersion{
			Name:       st.secret.Name + "/versions/" + strconv.Itoa(n),
			CreateTime: timestamppb.New(time.Now()),
			State:      secretmanagerpb.SecretVersion_ENABLED,
		},
		data: slices.Clone(data),
	}
	st.versions = append(st.versions, v)
	return proto.Clone(v.meta).(*secretmanagerpb.SecretVersion)
}

// CreateSecret implements secretmanagerpb.SecretManagerServiceServer.
func (s *Server) CreateSecret(_ context.Context, req *secretmanagerpb.CreateSecretRequest) (*secretmanagerpb.Secret, error) {
	if !projectRe.MatchString(req.GetParent()) {
		return nil, status.Errorf(codes.InvalidArgument, "invalid parent %q", req.GetParent())
	}
	if !secretIDRe.MatchString(req.GetSecretId()) {
		return nil, status.Errorf(codes.InvalidArgument, "invalid secret_id %q", req.GetSecretId())
	}
	in := req.GetSecret()
	if in.GetReplication() == nil {
		return nil, status.Error(codes.InvalidArgument, "secret.replication is required")
	}
	if len(in.GetLabels()) > 64 {
		return nil, status.Error(codes.InvalidArgument, "at most 64 labels")
	}
	for k, v := range in.GetLabels() {
		if !labelKeyRe.MatchString(k) || utf8.RuneCountInString(k) > 63 {
			return nil, status.Errorf(codes.InvalidArgument, "invalid label key %q", k)
		}
		if !labelValRe.MatchString(v) || utf8.RuneCountInString(v) > 63 {
			return nil, status.Errorf(codes.InvalidArgument, "invalid label value for key %q", k)
		}
	}
	size := 0
	for k, v := range in.GetAnnotations() {
		size += len(k) + len(v)
	}
	if size > 16*1024 {
		return nil, status.Error(codes.InvalidArgument, "annotations exceed 16 KiB")
	}
	name := req.GetParent() + "/secrets/" + req.GetSecretId()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.secrets[name]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "Secret [%s] already exists.", name)
	}
	sec := proto.Clone(in).(*secretmanagerpb.Secret)
	sec.Name = name
	sec.CreateTime = timestamppb.New(time.Now())
	s.secrets[name] = &secretState{secret: sec}
	s.order = append(s.order, name)
	return proto.Clone(sec).(*secretmanagerpb.Secret), nil
}

// GetSecret implements secretmanagerpb.SecretManagerServiceServer.
func (s *Server) GetSecret(_ context.Context, req *secretmanagerpb.GetSecretRequest) (*secretmanagerpb.Secret, error) {
	if !secretRe.MatchString(req.GetName()) {
		return nil, status.Errorf(codes.InvalidArgument, "invalid name %q", req.GetName())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.secrets[req.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Secret [%s] not found.", req.GetName())
	}
	return proto.Clone(st.secret).(*secretmanagerpb.Secret), nil
}

// ListSecrets implements secretmanagerpb.SecretManagerServiceServer.
func (s *Server) ListSecrets(_ context.Context, req *secretmanagerpb.ListSecretsRequest) (*secretmanagerpb.ListSecretsResponse, error) {
	if !projectRe.MatchString(req.GetParent()) {
		return nil, status.Errorf(codes.InvalidArgument, "invalid parent %q", req.GetParent())
	}
	start := 0
	if tok := req.GetPageToken(); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 {
			return nil, status.Errorf(codes.InvalidArgument, "invalid page_token")
		}
		start = n
	}
	size := int(req.GetPageSize())
	if size <= 0 || size > 25000 {
		size = 25000
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prefix := req.GetParent() + "/secrets/"
	var all []*secretmanagerpb.Secret
	for _, name := range s.order {
		if strings.HasPrefix(name, prefix) {
			all = append(all, proto.Clone(s.secrets[name].secret).(*secretmanagerpb.Secret))
		}
	}
	resp := &secretmanagerpb.ListSecretsResponse{TotalSize: int32(len(all))}
	if start < len(all) {
		end := min(start+size, len(all))
		resp.Secrets = all[start:end]
		if end < len(all) {
			resp.NextPageToken = strconv.Itoa(end)
		}
	}
	return resp, nil
}

// AddSecretVersion implements secretmanagerpb.SecretManagerServiceServer.
func (s *Server) AddSecretVersion(_ context.Context, req *secretmanagerpb.AddSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	if !secretRe.MatchString(req.GetParent()) {
		return nil, status.Errorf(codes.InvalidArgument, "invalid parent %q", req.GetParent())
	}
	data := req.GetPayload().GetData()
	if len(data) > 64*1024 {
		return nil, status.Error(codes.InvalidArgument, "payload exceeds 64 KiB")
	}
	if req.GetPayload().DataCrc32C != nil && int64(crc32.Checksum(data, castagnoli)) != req.GetPayload().GetDataCrc32C() {
		return nil, status.Error(codes.InvalidArgument, "data_crc32c does not match the payload")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.secrets[req.GetParent()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Secret [%s] not found.", req.GetParent())
	}
	return st.add(data), nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// version resolves a version name, including the "latest" alias (the
// newest version, whatever its state). Callers hold s.mu.
func (s *Server) version(name string) (*versionState, error) {
	m := versionRe.FindStringSubmatch(name)
	if m == nil {
		return nil, status.Errorf(codes.InvalidArgument, "invalid name %q", name)
	}
	st, ok := s.secrets[m[1]]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Secret [%s] not found.", m[1])
	}
	if m[2] == "latest" {
		if len(st.versions) == 0 {
			return nil, status.Errorf(codes.NotFound, "Secret Version [%s] not found.", name)
		}
		return st.versions[len(st.versions)-1], nil
	}
	n, err := strconv.Atoi(m[2])
	if err != nil || n < 1 || n > len(st.versions) {
		return nil, status.Errorf(codes.NotFound, "Secret Version [%s] not found.", name)
	}
	return st.versions[n-1], nil
}

// AccessSecretVersion implements secretmanagerpb.SecretManagerServiceServer.
func (s *Server) AccessSecretVersion(_ context.Context, req *secretmanagerpb.AccessSecretVersionRequest) (*secretmanagerpb.AccessSecretVersionResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.version(req.GetName())
	if err != nil {
		return nil, err
	}
	if v.meta.State != secretmanagerpb.SecretVersion_ENABLED {
		return nil, status.Errorf(codes.FailedPrecondition, "Secret Version [%s] is in %s state.", v.meta.Name, v.meta.State)
	}
	crc := int64(crc32.Checksum(v.data, castagnoli))
	return &secretmanagerpb.AccessSecretVersionResponse{
		Name:    v.meta.Name,
		Payload: &secretmanagerpb.SecretPayload{Data: slices.Clone(v.data), DataCrc32C: &crc},
	}, nil
}

// GetSecretVersion implements secretmanagerpb.SecretManagerServiceServer.
func (s *Server) GetSecretVersion(_ context.Context, req *secretmanagerpb.GetSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.version(req.GetName())
	if err != nil {
		return nil, err
	}
	return proto.Clone(v.meta).(*secretmanagerpb.SecretVersion), nil
}

// ListSecretVersions implements secretmanagerpb.SecretManagerServiceServer.
// Versions come newest first, in one page.
func (s *Server) ListSecretVersions(_ context.Context, req *secretmanagerpb.ListSecretVersionsRequest) (*secretmanagerpb.ListSecretVersionsResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.secrets[req.GetParent()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Secret [%s] not found.", req.GetParent())
	}
	resp := &secretmanagerpb.ListSecretVersionsResponse{TotalSize: int32(len(st.versions))}
	for i := len(st.versions) - 1; i >= 0; i-- {
		resp.Versions = append(resp.Versions, proto.Clone(st.versions[i].meta).(*secretmanagerpb.SecretVersion))
	}
	return resp, nil
}

// DisableSecretVersion implements secretmanagerpb.SecretManagerServiceServer.
func (s *Server) DisableSecretVersion(_ context.Context, req *secretmanagerpb.DisableSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.version(req.GetName())
	if err != nil {
		return nil, err
	}
	v.meta.State = secretmanagerpb.SecretVersion_DISABLED
	return proto.Clone(v.meta).(*secretmanagerpb.SecretVersion), nil
}
