// Exercises the C++ runtime of a g++ -static program (glibc, libstdc++, libgcc's unwinder, which probes for a CET shadow stack with rdssp): exceptions through frames with destructors, rethrow, catch by base, bad_alloc, virtual calls, dynamic_cast/typeid, static and thread_local initialization, sort/map/unordered_map/function, iostream formatting; argv[1] = element count.
// args: 200000
#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <unordered_map>
#include <vector>

static std::vector<std::string> trail;

struct Guard {
	std::string name;
	explicit Guard(std::string n) : name(std::move(n)) {}
	~Guard() { trail.push_back("~" + name); }
};

struct Depth : std::runtime_error {
	int depth;
	explicit Depth(int d) : std::runtime_error("depth " + std::to_string(d)), depth(d) {}
};

static int dive(int n)
{
	Guard g("dive" + std::to_string(n));
	if (n == 0)
		throw Depth(42);
	return dive(n - 1) + 1;
}

static int rethrow_through(int n)
{
	try {
		return dive(n);
	} catch (const Depth &d) {
		trail.push_back("caught " + std::to_string(d.depth) + ", rethrowing");
		throw;
	}
}

struct Shape {
	virtual ~Shape() = default;
	virtual double area() const = 0;
	virtual std::string name() const { return "shape"; }
};
struct Square : Shape {
	double s;
	explicit Square(double v) : s(v) {}
	double area() const override { return s * s; }
	std::string name() const override { return "square"; }
};
struct Circle : Shape {
	double r;
	explicit Circle(double v) : r(v) {}
	double area() const override { return 3.141592653589793 * r * r; }
};

static int counted_init()
{
	static int calls = 0;
	return ++calls;
}

static thread_local int tls_counter = 7;

int main(int argc, char **argv)
{
	int n = argc > 1 ? std::atoi(argv[1]) : 200000;

	try {
		rethrow_through(5);
	} catch (const std::exception &e) {
		std::cout << "exception: " << e.what() << '\n';
	}
	for (const auto &t : trail)
		std::cout << t << ' ';
	std::cout << '\n';

	try {
		std::vector<char> huge((size_t)1 << 44);
		std::cout << "allocated " << huge.size() << '\n';
	} catch (const std::bad_alloc &) {
		std::cout << "bad_alloc for 16 TiB\n";
	}

	std::vector<std::unique_ptr<Shape>> shapes;
	for (int i = 0; i < 10; i++)
		shapes.push_back(i % 3 ? std::unique_ptr<Shape>(new Square(i)) : std::unique_ptr<Shape>(new Circle(i)));
	double total = 0;
	int squares = 0;
	for (const auto &s : shapes) {
		total += s->area();
		squares += dynamic_cast<Square *>(s.get()) != nullptr;
	}
	std::cout << std::fixed << std::setprecision(6) << "area " << total << " squares " << squares << " first "
	          << shapes[0]->name() << " typeid " << (typeid(*shapes[1]) == typeid(Square)) << '\n';

	static int once = counted_init();
	static int twice = counted_init();
	tls_counter += once + twice;
	std::cout << "static init " << once << ' ' << twice << " thread_local " << tls_counter << '\n';

	std::vector<std::string> words;
	words.reserve(n);
	for (int i = 0; i < n; i++)
		words.push_back(std::to_string((long long)i * 7919 % n));
	std::sort(words.begin(), words.end(), [](const std::string &a, const std::string &b) {
		return a.size() != b.size() ? a.size() < b.size() : a < b;
	});
	std::unordered_map<std::string, int> freq;
	std::map<size_t, int> by_len;
	for (const auto &w : words) {
		freq[w.substr(0, 2)]++;
		by_len[w.size()]++;
	}
	long checksum = 0;
	for (const auto &w : words)
		checksum = checksum * 31 + freq[w.substr(0, 2)];
	std::cout << "first " << words.front() << " last " << words.back() << " prefixes " << freq.size() << " checksum "
	          << checksum << '\n';
	for (const auto &kv : by_len)
		std::cout << kv.first << ':' << kv.second << ' ';
	std::cout << '\n';

	std::vector<std::function<long(long)>> ops;
	for (int k = 1; k <= 5; k++)
		ops.push_back([k](long x) { return x * k + k; });
	long acc = 1;
	for (int round = 0; round < 1000; round++)
		for (const auto &f : ops)
			acc = f(acc) % 1000003;
	std::ostringstream os;
	os << std::hex << std::showbase << acc << ' ' << std::scientific << std::setprecision(3) << total;
	std::cout << "functions " << os.str() << '\n';
	return 0;
}
