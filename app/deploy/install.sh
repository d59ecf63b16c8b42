#!/bin/bash
# Installs the instance application from the unpacked user-data payload ($1). User data runs
# it on first boot; re-running it (by hand or with a new payload) converges to the same state.
set -euo pipefail
SRC=$1
# A scratch root for the unit test that runs this script; empty on an instance.
R=$(printenv PLATFORM_ROOT || true)
APP=$R/opt/platform-app
CONF=$R/etc/platform-app
IMDS=http://169.254.169.254/latest
RELEASE=$(sha256sum "$SRC/app.tar.xz" | cut -c1-16)

log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) platform-app install: $*"; }
trap 'log "FAILED at line $LINENO; fix the cause above, then re-run: sudo bash /var/lib/cloud/instance/user-data.txt"' ERR

log "release $RELEASE"
dnf install -y python3.11 python3.11-pip amazon-cloudwatch-agent logrotate
id -u platform-app >/dev/null 2>&1 ||
  useradd --system --no-create-home --home-dir /nonexistent --shell /sbin/nologin platform-app

# IMDSv2 only: every metadata read carries a session token (the template requires one).
TOKEN=$(curl -sSf --retry 5 --connect-timeout 2 -X PUT \
  -H "X-aws-ec2-metadata-token-ttl-seconds: 300" "$IMDS/api/token")
INSTANCE_ID=$(curl -sSf --retry 5 --connect-timeout 2 \
  -H "X-aws-ec2-metadata-token: $TOKEN" "$IMDS/meta-data/instance-id")
printf 'INSTANCE_ID=%s\n' "$INSTANCE_ID" >"$CONF/instance.env.tmp"
mv "$CONF/instance.env.tmp" "$CONF/instance.env"

# The CA bundle Aurora's certificates chain to; the app verifies the endpoint against it.
BUNDLE=$CONF/rds-global-bundle.pem
if ! grep -q "BEGIN CERTIFICATE" "$BUNDLE" 2>/dev/null; then
  curl -sSf --retry 5 --proto =https --tlsv1.2 -o "$BUNDLE.tmp" \
    https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem
  grep -q "BEGIN CERTIFICATE" "$BUNDLE.tmp" || { log "RDS CA bundle download is not PEM"; exit 1; }
  mv "$BUNDLE.tmp" "$BUNDLE"
fi
chmod 0644 "$BUNDLE"

# One directory per payload hash: a re-run skips pip, a new payload never mixes with the old.
REL=$APP/releases/$RELEASE
if [ ! -f "$REL/.installed" ]; then
  rm -rf "$REL"
  mkdir -p "$REL"
  cp -R "$SRC/platform_app" "$SRC/requirements-instance.txt" "$REL/"
  python3.11 -m pip install --no-cache-dir --disable-pip-version-check --require-hashes \
    --no-deps --only-binary=:all: --target "$REL/lib" -r "$REL/requirements-instance.txt"
  touch "$REL/.installed"
fi
ln -sfn "releases/$RELEASE" "$APP/current.tmp"
mv -T "$APP/current.tmp" "$APP/current"
for old in "$APP"/releases/*; do
  [ "$old" = "$REL" ] || rm -rf "$old"
done

install -m 0644 "$SRC/deploy/platform-app.service" "$R/etc/systemd/system/platform-app.service"
install -m 0644 "$SRC/deploy/logrotate.conf" "$R/etc/logrotate.d/platform-app"
"$R/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl" -a fetch-config -m ec2 -s \
  -c "file:$CONF/cloudwatch-agent.json"
systemctl daemon-reload
systemctl enable platform-app.service
systemctl restart platform-app.service
log "done; the service answers on :8080, its logs go to /var/log/platform-app/app.log"
