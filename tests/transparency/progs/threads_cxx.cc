// cflags: -pthread
// C++ threads on the guest's one CPU: a spin-wait handed over by another
// thread (no system call in the loop: only preemption lets the other run),
// std::async, a mutex shared by eight threads, an exception thrown and
// caught inside a thread.
#include <thread>
#include <atomic>
#include <future>
#include <vector>
#include <mutex>
#include <cstdio>
#include <numeric>
int main() {
	std::atomic<int> flag{0};
	std::thread b([&] { flag.store(1); });
	while (!flag.load()) { }          // spins without a system call: needs preemption
	b.join();
	std::vector<std::future<long>> fs;
	for (int k = 0; k < 4; k++) fs.push_back(std::async(std::launch::async, [k] { long s = 0; for (long i = 0; i < 2000000; i++) s += (i * k) % 13; return s; }));
	long tot = 0; for (auto &f : fs) tot += f.get();
	std::mutex m; int n = 0; std::vector<std::thread> ts;
	for (int i = 0; i < 8; i++) ts.emplace_back([&] { for (int j = 0; j < 1000; j++) { std::lock_guard<std::mutex> g(m); n++; } });
	for (auto &t : ts) t.join();
	std::thread([] { try { throw 1; } catch (int) {} }).join();
	printf("spin handoff ok, async %ld, mutex count %d\n", tot, n);
}
