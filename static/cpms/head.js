/* Loaded in <head>, before the page paints: the navigation becomes a menu on phones only where
   a script can open it (app.css keys on the "js" class). A file, not inline: the
   Content-Security-Policy allows no inline script. */
document.documentElement.classList.add("js");
