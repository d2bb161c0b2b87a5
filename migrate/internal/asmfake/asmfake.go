// Package asmfake is a wire-level stand-in for AWS Secrets Manager: a
// local HTTP server speaking the service's JSON 1.1 protocol
// (X-Amz-Target: secretsmanager.<Operation>, application/x-amz-json-1.1,
// errors as {"__type": ...}), so tests drive the real AWS SDK against it.
// It also counts calls and injects faults.
//
// It implements CreateSecret, GetSecretValue, PutSecretValue,
// DescribeSecret and ListSecrets, with VersionId / VersionStages
// (AWSCURRENT, AWSPREVIOUS), ClientRequestToken idempotency (a repeated
// token with the same value is a no-op, with a different value an error)
// and deletion scheduling. It checks that requests carry a SigV4
// Authorization header naming the expected access key, but does not
// verify signatures. Other operations answer UnknownOperationException.
package asmfake

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a Server.
type Options struct {
	// AccessKeyID, when set, is the only access key accepted; others get
	// UnrecognizedClientException.
	AccessKeyID string
	// Account is the account id used in ARNs (default 123456789012).
	Account string
}

// Server is a running fake. It is safe for concurrent use.
type Server struct {
	opts Options
	lis  net.Listener
	srv  *http.Server

	mu      sync.Mutex
	secrets map[string]*secretState // by name
	order   []string
	calls   map[string]int
	faults  map[string][]Fault
	after   map[string][]Fault
}

// Fault is an injected failure.
type Fault struct {
	Status int    // HTTP status, e.g. 429 or 500
	Type   string // __type, e.g. ThrottlingException
}

type secretState struct {
	name, arn, description string
	tags                   []Tag
	created                time.Time
	deleted                bool
	versions               map[string]*version // by VersionId
	versionOrder           []string
}

type version struct {
	id      string
	value   *string
	binary  []byte
	stages  []string
	created time.Time
}

// Tag is a secret tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// Start listens on a free loopback port and serves until Close.
func Start(opts Options) (*Server, error) {
	if opts.Account == "" {
		opts.Account = "123456789012"
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("asmfake: listening: %w", err)
	}
	s := &Server{
		opts:    opts,
		lis:     lis,
		secrets: map[string]*secretState{},
		calls:   map[string]int{},
		faults:  map[string][]Fault{},
		after:   map[string][]Fault{},
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(lis) }()
	return s, nil
}

// URL returns the server's base URL.
func (s *Server) URL() string { return "http://" + s.lis.Addr().String() }

// Close stops the server.
func (s *Server) Close() { _ = s.srv.Close() }

// FailNext makes the next n calls of operation op (e.g. "PutSecretValue")
// fail with f.
func (s *Server) FailNext(op string, f Fault, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[op] = append(s.faults[op], f)
	}
}

// FailAfter makes the next n calls of op take effect and then fail with
// f, as when a response is lost on the way back.
func (s *Server) FailAfter(op string, f Fault, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.after[op] = append(s.after[op], f)
	}
}

// Calls returns how many times op was called, failed calls included.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
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

// Tags returns the secret's tags and description.
func (s *Server) Tags(name string) ([]Tag, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.secrets[name]
	if !ok {
		return nil, "", false
	}
	return slices.Clone(st.tags), st.description, true
}

// PutValue stores value as the new AWSCURRENT version of an existing
// secret, as another writer would, and returns its VersionId.
func (s *Server) PutValue(name, value string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.secrets[name]
	if !ok {
		return "", fmt.Errorf("asmfake: secret %s not found", name)
	}
	return st.add(newID(), &value, nil).id, nil
}

// ScheduleDeletion marks the secret deleted, as DeleteSecret with a
// recovery window does.
func (s *Server) ScheduleDeletion(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.secrets[name]; ok {
		st.deleted = true
	}
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// add stores a version and makes it AWSCURRENT. Callers hold s.mu.
func (st *secretState) add(id string, value *string, binary []byte) *version {
	for _, v := range st.versions {
		v.stages = slices.DeleteFunc(v.stages, func(l string) bool { return l == "AWSPREVIOUS" })
		if slices.Contains(v.stages, "AWSCURRENT") {
			v.stages = slices.DeleteFunc(v.stages, func(l string) bool { return l == "AWSCURRENT" })
			v.stages = append(v.stages, "AWSPREVIOUS")
		}
	}
	v := &version{id: id, value: value, binary: binary, stages: []string{"AWSCURRENT"}, created: time.Now()}
	st.versions[id] = v
	st.versionOrder = append(st.versionOrder, id)
	return v
}

func (st *secretState) current() *version {
	for _, v := range st.versions {
		if slices.Contains(v.stages, "AWSCURRENT") {
			return v
		}
	}
	return nil
}

type apiError struct {
	status int
	typ    string
	msg    string
}

func errf(status int, typ, format string, a ...any) *apiError {
	return &apiError{status: status, typ: typ, msg: fmt.Sprintf(format, a...)}
}

var credRe = regexp.MustCompile(`Credential=([^/]+)/[0-9]{8}/([^/]+)/secretsmanager/aws4_request`)

// ServeHTTP implements the JSON 1.1 protocol.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "secretsmanager.")
	if r.Method != http.MethodPost || !ok {
		writeErr(w, errf(400, "UnknownOperationException", "unknown operation %q", target))
		return
	}
	s.mu.Lock()
	s.calls[op]++
	var fault *Fault
	if q := s.faults[op]; len(q) > 0 {
		fault = &q[0]
		s.faults[op] = q[1:]
	}
	s.mu.Unlock()
	if fault != nil {
		writeErr(w, errf(fault.Status, fault.Type, "injected fault for %s", op))
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json-1.1") {
		writeErr(w, errf(400, "SerializationException", "want Content-Type application/x-amz-json-1.1"))
		return
	}
	m := credRe.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil || !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		writeErr(w, errf(400, "MissingAuthenticationTokenException", "Request is missing Authentication Token"))
		return
	}
	if s.opts.AccessKeyID != "" && m[1] != s.opts.AccessKeyID {
		writeErr(w, errf(400, "UnrecognizedClientException", "The security token included in the request is invalid."))
		return
	}
	region := m[2]
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeErr(w, errf(400, "SerializationException", "reading the body: %v", err))
		return
	}
	var out any
	var aerr *apiError
	switch op {
	case "CreateSecret":
		out, aerr = s.createSecret(region, body)
	case "GetSecretValue":
		out, aerr = s.getSecretValue(body)
	case "PutSecretValue":
		out, aerr = s.putSecretValue(body)
	case "DescribeSecret":
		out, aerr = s.describeSecret(body)
	case "ListSecrets":
		out, aerr = s.listSecrets(body)
	default:
		aerr = errf(400, "UnknownOperationException", "operation %s is not implemented by asmfake", op)
	}
	if aerr != nil {
		writeErr(w, aerr)
		return
	}
	s.mu.Lock()
	var late *Fault
	if q := s.after[op]; len(q) > 0 {
		late = &q[0]
		s.after[op] = q[1:]
	}
	s.mu.Unlock()
	if late != nil {
		writeErr(w, errf(late.Status, late.Type, "injected fault after %s took effect", op))
		return
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(out); err != nil {
		writeErr(w, errf(500, "InternalServiceError", "encoding the response"))
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_, _ = w.Write(buf.Bytes())
}

func writeErr(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.typ)
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.typ, "message": e.msg})
}

func decode(body []byte, v any) *apiError {
	if err := json.Unmarshal(body, v); err != nil {
		return errf(400, "SerializationException", "malformed request body")
	}
	return nil
}

func epoch(t time.Time) json.Number {
	return json.Number(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64))
}

var (
	nameRe   = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)
	tagKeyRe = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)
	tagValRe = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$`)
)

// lookup finds a secret by name or ARN. Callers hold s.mu.
func (s *Server) lookup(id string) (*secretState, *apiError) {
	if st, ok := s.secrets[id]; ok {
		return st, nil
	}
	for _, st := range s.secrets {
		if st.arn == id {
			return st, nil
		}
	}
	return nil, errf(400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
}

func checkToken(tok *string) (string, *apiError) {
	if tok == nil {
		return newID(), nil
	}
	if n := len(*tok); n < 32 || n > 64 {
		return "", errf(400, "ValidationException", "ClientRequestToken must be 32 to 64 characters")
	}
	return *tok, nil
}

func (s *Server) createSecret(region string, body []byte) (any, *apiError) {
	var in struct {
		Name               string
		ClientRequestToken *string
		Description        string
		SecretString       *string
		SecretBinary       []byte
		Tags               []Tag
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if !nameRe.MatchString(in.Name) {
		return nil, errf(400, "ValidationException", "invalid secret name")
	}
	if len(in.Description) > 2048 {
		return nil, errf(400, "ValidationException", "Description must be at most 2048 characters")
	}
	if len(in.Tags) > 50 {
		return nil, errf(400, "ValidationException", "at most 50 tags")
	}
	for _, t := range in.Tags {
		if !tagKeyRe.MatchString(t.Key) || strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return nil, errf(400, "ValidationException", "invalid tag key %q", t.Key)
		}
		if !tagValRe.MatchString(t.Value) {
			return nil, errf(400, "ValidationException", "invalid value for tag %q", t.Key)
		}
	}
	tok, e := checkToken(in.ClientRequestToken)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.secrets[in.Name]; ok {
		return nil, errf(400, "ResourceExistsException", "The operation failed because the secret %s already exists.", in.Name)
	}
	st := &secretState{
		name:        in.Name,
		arn:         fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", region, s.opts.Account, in.Name, newID()[:6]),
		description: in.Description,
		tags:        in.Tags,
		created:     time.Now(),
		versions:    map[string]*version{},
	}
	s.secrets[in.Name] = st
	s.order = append(s.order, in.Name)
	out := map[string]any{"ARN": st.arn, "Name": st.name}
	if in.SecretString != nil || in.SecretBinary != nil {
		out["VersionId"] = st.add(tok, in.SecretString, in.SecretBinary).id
	}
	return out, nil
}

func (s *Server) getSecretValue(body []byte) (any, *apiError) {
	var in struct {
		SecretId     string
		VersionId    string
		VersionStage string
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, e := s.lookup(in.SecretId)
	if e != nil {
		return nil, e
	}
	if st.deleted {
		return nil, errf(400, "InvalidRequestException", "You can't perform this operation on the secret because it was marked for deletion.")
	}
	var v *version
	switch {
	case in.VersionId != "":
		v = st.versions[in.VersionId]
		if v != nil && in.VersionStage != "" && !slices.Contains(v.stages, in.VersionStage) {
			v = nil
		}
	default:
		stage := in.VersionStage
		if stage == "" {
			stage = "AWSCURRENT"
		}
		for _, c := range st.versions {
			if slices.Contains(c.stages, stage) {
				v = c
			}
		}
	}
	if v == nil {
		return nil, errf(400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for the requested version or staging label.")
	}
	out := map[string]any{
		"ARN": st.arn, "Name": st.name, "VersionId": v.id,
		"VersionStages": v.stages, "CreatedDate": epoch(v.created),
	}
	if v.value != nil {
		out["SecretString"] = *v.value
	}
	if v.binary != nil {
		out["SecretBinary"] = v.binary
	}
	return out, nil
}

func (s *Server) putSecretValue(body []byte) (any, *apiError) {
	var in struct {
		SecretId           string
		ClientRequestToken *string
		SecretString       *string
		SecretBinary       []byte
		VersionStages      []string
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if in.SecretString == nil && in.SecretBinary == nil {
		return nil, errf(400, "InvalidParameterException", "You must provide either SecretString or SecretBinary.")
	}
	if len(in.VersionStages) > 0 {
		return nil, errf(400, "InvalidParameterException", "asmfake does not support VersionStages on PutSecretValue")
	}
	tok, e := checkToken(in.ClientRequestToken)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, e := s.lookup(in.SecretId)
	if e != nil {
		return nil, e
	}
	if st.deleted {
		return nil, errf(400, "InvalidRequestException", "You can't perform this operation on the secret because it was marked for deletion.")
	}
	if v, ok := st.versions[tok]; ok {
		if !sameString(v.value, in.SecretString) || !bytes.Equal(v.binary, in.SecretBinary) {
			return nil, errf(400, "ResourceExistsException", "You can't modify an existing version, you can only create new versions.")
		}
		// A repeated request: nothing changes.
		return map[string]any{"ARN": st.arn, "Name": st.name, "VersionId": v.id, "VersionStages": v.stages}, nil
	}
	v := st.add(tok, in.SecretString, in.SecretBinary)
	return map[string]any{"ARN": st.arn, "Name": st.name, "VersionId": v.id, "VersionStages": v.stages}, nil
}

func sameString(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func (s *Server) describe(st *secretState) map[string]any {
	stages := map[string][]string{}
	for id, v := range st.versions {
		stages[id] = v.stages
	}
	out := map[string]any{
		"ARN": st.arn, "Name": st.name, "Tags": st.tags,
		"CreatedDate": epoch(st.created), "VersionIdsToStages": stages,
	}
	if st.description != "" {
		out["Description"] = st.description
	}
	if st.deleted {
		out["DeletedDate"] = epoch(time.Now())
	}
	return out
}

func (s *Server) describeSecret(body []byte) (any, *apiError) {
	var in struct{ SecretId string }
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, e := s.lookup(in.SecretId)
	if e != nil {
		return nil, e
	}
	return s.describe(st), nil
}

func (s *Server) listSecrets(body []byte) (any, *apiError) {
	var in struct {
		MaxResults *int
		NextToken  string
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	size := 100
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 100 {
			return nil, errf(400, "InvalidParameterException", "MaxResults must be between 1 and 100")
		}
		size = *in.MaxResults
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 {
			return nil, errf(400, "InvalidNextTokenException", "invalid NextToken")
		}
		start = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := []map[string]any{}
	end := min(start+size, len(s.order))
	for i := start; i < end; i++ {
		list = append(list, s.describe(s.secrets[s.order[i]]))
	}
	out := map[string]any{"SecretList": list}
	if end < len(s.order) {
		out["NextToken"] = strconv.Itoa(end)
	}
	return out, nil
}
