package result

// Hardening is how one start's container was confined beyond its resource
// limits: each setting as the suite (or its profile) asked, as the engine
// recorded it (inspect), and as the kernel holds it for the container's
// process (/proc/PID, the host side of the socket dir), where it can be read.
type Hardening struct {
	Profile  string    `json:"profile"` // default | fn
	Settings []Setting `json:"settings"`
}

// Setting is one hardening setting. Values are short text ("yes", "none",
// "1024", "SETGID,SETUID"); "" means not recorded or not readable.
type Setting struct {
	Name      string `json:"name"`
	Requested string `json:"requested"`
	Observed  string `json:"observed,omitempty"` // from inspect
	Enforced  string `json:"enforced,omitempty"` // read back from the kernel
	// OK: what the kernel holds (else, where it cannot be read, what the
	// engine recorded) matches the request.
	OK bool `json:"ok"`
}

// Setting names, in report order.
const (
	SetNoNewPrivileges = "no_new_privileges"
	SetCapabilities    = "capabilities" // the bounding set of the container's process
	SetReadOnlyRoot    = "read_only_root"
	SetTmpfs           = "tmpfs"      // tmpfs mounts inside the container
	SetNoFile          = "nofile"     // RLIMIT_NOFILE
	SetUser            = "user"       // who the process runs as
	SetLog             = "log"        // the log driver and its size cap
	SetSocketDir       = "socket_dir" // the host side of the socket's directory
)
