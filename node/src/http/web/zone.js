// Tells the server the reader's time zone (a cookie), so that dates on the
// page are the reader's, not the server's. Without it, dates are in UTC
// and say so. A static script: the page allows no inline script.
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
if (zone && !document.cookie.split('; ').includes('kawan_tz=' + zone)) {
  document.cookie = 'kawan_tz=' + zone + '; path=/; max-age=31536000; samesite=strict';
}
