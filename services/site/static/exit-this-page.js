// "Exit this page" (the GOV.UK pattern): the button is a plain link and works without this
// file. With it, pressing Shift 3 times also leaves, and the page is blanked and replaced in
// the history so Back does not return to it. No inline script: the CSP forbids it.
(function () {
  'use strict'
  var button = document.getElementById('exit-this-page')
  if (!button) return
  var url = button.getAttribute('data-exit-url') || button.getAttribute('href')

  function exitNow (event) {
    if (event) event.preventDefault()
    document.body.classList.add('lw-exiting')
    document.title = 'Loading'
    window.location.replace(url)
  }

  button.addEventListener('click', exitNow)

  var presses = 0
  var timer = null
  document.addEventListener('keyup', function (event) {
    if (event.key !== 'Shift') {
      presses = 0
      return
    }
    presses += 1
    clearTimeout(timer)
    timer = setTimeout(function () { presses = 0 }, 5000)
    if (presses >= 3) {
      presses = 0
      exitNow()
    }
  })
})()
