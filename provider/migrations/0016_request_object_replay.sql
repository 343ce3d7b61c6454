-- Issue 9: a signed request object (JAR, RFC 9101) with a `jti` is accepted once until it
-- expires: a captured object cannot start a second authorization.

CREATE TABLE request_objects (
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX request_objects_expires_at ON request_objects (expires_at);
