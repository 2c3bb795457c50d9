// The S3 server of the tests: s3rver (objects, buckets, ListObjectsV2)
// behind a front that checks AWS Signature V4 the way S3 does. s3rver 3.7
// itself accepts any V4 signature (it only looks the access key up), so
// without this front a wrong secret would pass unnoticed.
//
// usage: node server.js --dir DIR --port-file FILE --key AK:SECRET[:TOKEN]...
//          [--region R] [--public BUCKET]... [--private BUCKET]...
//          [--log FILE] [--tls-key K --tls-cert C]
// A key given with a TOKEN is a temporary one: its requests must carry that
// x-amz-security-token (signed).
// Listens on a free 127.0.0.1 port and writes it to FILE (atomically).
// Public buckets take unsigned requests too; private ones only signed ones.
// Every request is logged to --log as "METHOD URL signed|anonymous|denied".
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const https = require('https');
const S3rver = require('s3rver');

function parseArgs(argv) {
  const opts = { public: [], private: [], keys: {}, region: 'us-east-1' };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    const value = argv[i + 1];
    if (name === 'public' || name === 'private') opts[name].push(value);
    else if (name === 'key') {
      const [key, secret, token] = value.split(':');
      opts.keys[key] = { secret, token };
    } else opts[name.replace(/-(.)/g, (m, c) => c.toUpperCase())] = value;
  }
  for (const required of ['dir', 'portFile']) {
    if (!opts[required]) throw new Error('missing --' + required);
  }
  return opts;
}

// RFC 3986 encoding as SigV4 wants it: everything but A-Za-z0-9-._~.
function uriEncode(s, keepSlash) {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === '/')) out += c;
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function decode(s) {
  return decodeURIComponent(s.replace(/\+/g, '%20'));
}

function canonicalQuery(query) {
  if (!query) return '';
  return query
    .split('&')
    .filter(p => p.length > 0)
    .map(p => {
      const eq = p.indexOf('=');
      const k = eq < 0 ? p : p.slice(0, eq);
      const v = eq < 0 ? '' : p.slice(eq + 1);
      return [uriEncode(decode(k), false), uriEncode(decode(v), false)];
    })
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => k + '=' + v)
    .join('&');
}

function hmac(key, data) {
  return crypto.createHmac('sha256', key).update(data, 'utf8').digest();
}

// null when the request is signed right, else [httpStatus, code, message].
function checkSignature(req, opts) {
  const auth = req.headers.authorization || '';
  const m = auth.match(
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/,
  );
  if (!m) return [400, 'AuthorizationHeaderMalformed', 'not an AWS4-HMAC-SHA256 header'];
  const [, accessKey, date, region, service, signedHeaders, signature] = m;
  const known = opts.keys[accessKey];
  if (!known) return [403, 'InvalidAccessKeyId', 'unknown access key'];
  if (service !== 's3') return [400, 'AuthorizationHeaderMalformed', 'service is not s3'];
  if (region !== opts.region) {
    return [400, 'AuthorizationHeaderMalformed', 'region ' + region + ' is wrong'];
  }
  const amzDate = req.headers['x-amz-date'] || '';
  if (!amzDate.startsWith(date)) return [403, 'AccessDenied', 'x-amz-date missing or off'];
  const payloadHash = req.headers['x-amz-content-sha256'];
  if (!payloadHash) {
    return [400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256'];
  }
  const names = signedHeaders.split(';');
  if (!names.includes('host')) return [403, 'AccessDenied', 'host is not signed'];
  if (known.token) {
    if (req.headers['x-amz-security-token'] !== known.token || !names.includes('x-amz-security-token')) {
      return [403, 'InvalidToken', 'the security token is missing or wrong'];
    }
  }
  const q = req.url.indexOf('?');
  const rawPath = q < 0 ? req.url : req.url.slice(0, q);
  const path = rawPath.split('/').map(seg => uriEncode(decode(seg), false)).join('/');
  const headers = names
    .map(n => n + ':' + String(req.headers[n] || '').trim().replace(/ +/g, ' ') + '\n')
    .join('');
  const canonical = [
    req.method,
    path,
    canonicalQuery(q < 0 ? '' : req.url.slice(q + 1)),
    headers,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = [date, region, service, 'aws4_request'].join('/');
  const toSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    crypto.createHash('sha256').update(canonical, 'utf8').digest('hex'),
  ].join('\n');
  let key = hmac('AWS4' + known.secret, date);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  const want = hmac(key, toSign).toString('hex');
  if (!crypto.timingSafeEqual(Buffer.from(want), Buffer.from(signature))) {
    return [403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match'];
  }
  return null;
}

function deny(res, status, code, message) {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>' + code + '</Code><Message>' +
    message.replace(/[<&>]/g, '') + '</Message></Error>';
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const buckets = opts.public.concat(opts.private);
  const s3 = new S3rver({
    directory: opts.dir,
    silent: true,
    vhostBuckets: false,
    configureBuckets: buckets.map(name => ({ name })),
  });
  await s3.configureBuckets();
  const app = s3.callback();
  const log = line => {
    if (opts.log) fs.appendFileSync(opts.log, line + '\n');
  };
  const handler = (req, res) => {
    const bucket = decodeURIComponent(req.url.split('?')[0].split('/')[1] || '');
    let verdict = 'anonymous';
    if ('authorization' in req.headers) {
      const bad = checkSignature(req, opts);
      if (bad) {
        log(req.method + ' ' + req.url + ' denied ' + bad[1]);
        return deny(res, ...bad);
      }
      verdict = 'signed';
    } else if (!opts.public.includes(bucket)) {
      log(req.method + ' ' + req.url + ' denied AccessDenied');
      return deny(res, 403, 'AccessDenied', 'Access Denied');
    }
    log(req.method + ' ' + req.url + ' ' + verdict);
    // s3rver knows one dummy account: hand it the request as anonymous.
    for (const h of ['authorization', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256']) {
      delete req.headers[h];
    }
    app(req, res);
  };
  const server = opts.tlsKey
    ? https.createServer({ key: fs.readFileSync(opts.tlsKey), cert: fs.readFileSync(opts.tlsCert) }, handler)
    : http.createServer(handler);
  server.listen(0, '127.0.0.1', () => {
    const tmp = opts.portFile + '.tmp';
    fs.writeFileSync(tmp, String(server.address().port));
    fs.renameSync(tmp, opts.portFile);
  });
  process.on('SIGTERM', () => process.exit(0));
}

main().catch(err => {
  console.error('s3 test server: ' + err.message);
  process.exit(1);
});
