# shellcheck shell=sh
# /etc/makara/cmdline.sh: the makara.KEY=VALUE settings of the kernel command
# line, sourced by /init (busybox sh) after image.conf. Functions only; the
# caller defines log(). tests/scripts/test_init_cmdline.sh runs them on fake
# command lines.
#
# Only the settings below are taken, each as plain data: a value is assigned,
# never run, and any other makara.* word (makara.path=..., a typo) is logged
# and ignored. KEY may be written in either case.

# cmdline_words FILE: the words of a kernel command line, one per line.
# Double quotes group a word with blanks in it (makara.vivid_options="a b")
# and are dropped, as the kernel does for its own parameters.
cmdline_words() {
    awk '{
        word = ""; have = 0; quoted = 0
        for (i = 1; i <= length($0); i++) {
            c = substr($0, i, 1)
            if (c == "\"") { quoted = !quoted; have = 1; continue }
            if (!quoted && (c == " " || c == "\t")) {
                if (have) print word
                word = ""; have = 0
                continue
            }
            word = word c; have = 1
        }
        if (have) print word
    }' "$1"
}

# cmdline_setting KEY VALUE: sets one known setting; false for any other KEY.
cmdline_setting() {
    case $1 in
        DATA_DEV) DATA_DEV=$2 ;;
        DATA_DIR) DATA_DIR=$2 ;;
        DATA_FSTYPE) DATA_FSTYPE=$2 ;;
        DATA_LABEL) DATA_LABEL=$2 ;;
        MAKARAD_DATA) MAKARAD_DATA=$2 ;;
        MAKARAD_DEBUG) MAKARAD_DEBUG=$2 ;;
        MAKARAD_LISTEN) MAKARAD_LISTEN=$2 ;;
        MAKARAD_LOG) MAKARAD_LOG=$2 ;;
        MODULES_FS) MODULES_FS=$2 ;;
        MODULES_VIDEO) MODULES_VIDEO=$2 ;;
        VIVID_OPTIONS) VIVID_OPTIONS=$2 ;;
        WATCHDOG_HEARTBEAT) WATCHDOG_HEARTBEAT=$2 ;;
        NET_INTERFACE) NET_INTERFACE=$2 ;;
        CONSOLE) CONSOLE=$2 ;;
        *) return 1 ;;
    esac
}

# cmdline_settings FILE: applies every makara.KEY=VALUE word of FILE
# (/proc/cmdline at boot). Read through a here-document, not a pipe, so
# the assignments happen in this shell.
cmdline_settings() {
    while IFS= read -r word; do
        case $word in
            makara.*=*) ;;
            makara.*) log "ignoring kernel argument '$word': not KEY=VALUE"; continue ;;
            *) continue ;;
        esac
        rest=${word#makara.}
        key=$(printf '%s' "${rest%%=*}" | tr 'a-z' 'A-Z')
        if cmdline_setting "$key" "${rest#*=}"; then
            log "kernel command line: $key=${rest#*=}"
        else
            log "ignoring kernel argument '$word': $key is not a boot setting (docs/image.md)"
        fi
    done <<EOF
$(cmdline_words "$1")
EOF
}
