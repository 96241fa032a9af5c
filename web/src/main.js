document.getElementById("app").textContent = "Aksio";
