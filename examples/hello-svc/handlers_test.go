package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHandlers(t *testing.T) {
	mux := newMux(buildInfo{Version: "1.2.3", Commit: "abc123", Date: "2026-01-02T03:04:05Z"})
	tests := []struct {
		name, method, target string
		wantStatus           int
		wantBody             string
	}{
		{"health", "GET", "/healthz", 200, "ok\n"},
		{"hello default", "GET", "/hello", 200, "hello, world\n"},
		{"hello named", "GET", "/hello?name=gopher", 200, "hello, gopher\n"},
		{"slow zero", "GET", "/slow?ms=0", 200, "slept 0ms\n"},
		{"slow bad", "GET", "/slow?ms=abc", 400, "ms must be 0..60000\n"},
		{"slow too long", "GET", "/slow?ms=60001", 400, "ms must be 0..60000\n"},
		{"post health", "POST", "/healthz", 405, ""},
		{"unknown", "GET", "/nope", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.target, nil))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if tt.wantBody != "" && rec.Body.String() != tt.wantBody {
				t.Fatalf("body = %q, want %q", rec.Body.String(), tt.wantBody)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	want := buildInfo{Version: "1.2.3", Commit: "abc123", Date: "2026-01-02T03:04:05Z"}
	rec := httptest.NewRecorder()
	newMux(want).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/version", nil))
	var got buildInfo
	if err := json.NewDecoder(strings.NewReader(rec.Body.String())).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("version = %+v, want %+v", got, want)
	}
	if h := rec.Header().Get("X-Version"); h != "1.2.3" {
		t.Fatalf("X-Version = %q", h)
	}
}

func TestGreetee(t *testing.T) {
	for in, want := range map[string]string{"": "world", "ann": "ann"} {
		if got := greetee(in); got != want {
			t.Errorf("greetee(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFault(t *testing.T) {
	defer healthLimited.Store(false)
	mux := newMux(buildInfo{Version: "1"})
	health := func() int {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		return rec.Code
	}
	if err := applyFault("healthz-after=2"); err != nil {
		t.Fatal(err)
	}
	if got := []int{health(), health(), health(), health()}; got[0] != 200 || got[1] != 200 || got[2] != 503 || got[3] != 503 {
		t.Fatalf("healthz-after=2 answered %v", got)
	}
	if err := applyFault("healthz"); err != nil || health() != 503 {
		t.Fatal("healthz fault should fail at once")
	}
	for _, bad := range []string{"nope", "healthz-after=x", "healthz-after=-1"} {
		if applyFault(bad) == nil {
			t.Errorf("HELLO_FAULT=%s accepted", bad)
		}
	}
}

func TestMigrateRecordsOnceAndFailsOnFault(t *testing.T) {
	db := filepath.Join(t.TempDir(), "db")
	if code := migrate(db, ""); code != 0 {
		t.Fatalf("migrate exited %d", code)
	}
	if code := migrate(db, "migrate"); code != 1 {
		t.Fatalf("migrate with HELLO_FAULT=migrate exited %d, want 1", code)
	}
	got, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if want := "schema " + version + "\n"; string(got) != want {
		t.Errorf("db = %q, want %q (the failed run must not record)", got, want)
	}
}
